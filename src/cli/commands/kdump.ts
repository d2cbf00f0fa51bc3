// `kexec-ts kdump ...`: the kdump service (kdump/service/command.ts does the work; docs/kdump-service.md).
import {
  CONFIG_PATH,
  DEFAULT_INITRD,
  SYSTEMD_DIR,
  SYSV_DIR,
  SYSV_NAME,
  UNIT_NAME,
} from '../../kdump/service/paths.js';
import { type CommandContext, defineCommand, JSON_OPTION, type OptionSpec } from '../command.js';

const CONFIG = {
  id: 'config',
  long: ['config'],
  arg: 'FILE',
  default: CONFIG_PATH,
  complete: 'file',
  help: 'the kdump configuration',
} as const satisfies OptionSpec;

/** Every kdump command reads the configuration and can print JSON. */
const COMMON = [CONFIG, JSON_OPTION] as const;

async function service(ctx: CommandContext, v: { config: string; json: boolean }) {
  const cmd = await import('../../kdump/service/command.js');
  return { cmd, run: { io: ctx.io, sys: await ctx.getSys(), configPath: v.config, json: v.json } };
}

const LOAD = defineCommand({
  name: 'load',
  summary: 'load the capture kernel into the crashkernel= reservation',
  description: [
    `Loads the capture kernel (KERNEL= in the configuration, default the running one) with the capture ` +
      `initramfs (INITRD=, default ${DEFAULT_INITRD}) and the configured command line, by kexec_file_load ` +
      'with the crash flag.',
  ],
  options: [{ id: 'dryRun', long: ['dry-run'], help: 'print what would be loaded; load nothing' }, ...COMMON],
  run: async (v, ctx) => {
    const { cmd, run } = await service(ctx, v);
    return cmd.kdumpLoadCommand(run, { dryRun: v.dryRun });
  },
});

const UNLOAD = defineCommand({
  name: 'unload',
  summary: 'unload the capture kernel',
  options: [...COMMON],
  run: async (v, ctx) => {
    const { cmd, run } = await service(ctx, v);
    return cmd.kdumpUnloadCommand(run);
  },
});

const STATUS = defineCommand({
  name: 'status',
  summary: 'is this machine protected?',
  description: [
    'The reservation, the loaded capture kernel, the initramfs and the dump target, each checked.',
  ],
  options: [...COMMON],
  exitStatus: ['0 protected; 1 not (or an error).'],
  run: async (v, ctx) => {
    const { cmd, run } = await service(ctx, v);
    return cmd.kdumpStatusCommand(run);
  },
});

const BUILD_INITRD = defineCommand({
  name: 'build-initrd',
  summary: 'build the capture initramfs',
  description: [
    'Node, kexec-ts and the libraries they load, for the capture kernel to run `kdump save` with. Written ' +
      'to INITRD from the configuration unless -o is given.',
  ],
  options: [
    { id: 'output', long: ['output'], short: 'o', arg: 'FILE', complete: 'file', help: 'where to write it' },
    {
      id: 'compress',
      long: ['compress'],
      choices: ['gzip', 'zstd', 'none'],
      default: 'gzip',
      help: 'how the archive is compressed',
    },
    ...COMMON,
  ],
  run: async (v, ctx) => {
    const { cmd, run } = await service(ctx, v);
    return cmd.kdumpBuildInitrdCommand(run, { output: v.output, compression: v.compress });
  },
});

const SAVE = defineCommand({
  name: 'save',
  summary: 'in the capture kernel: save the log and the dump, then do ACTION',
  description: [
    'Writes dmesg.txt, then vmcore, into DIR/<time>/ as the configuration says (DUMP_LEVEL=, ' +
      'COMPRESSION=), then does its ACTION= (reboot, poweroff, shell). A failed dump still does the ' +
      'action, unless it is shell, so the machine comes back.',
  ],
  options: [
    {
      id: 'dir',
      long: ['dir'],
      arg: 'DIR',
      complete: 'dir',
      help: 'where the dump directory goes (default TARGET= from the configuration)',
    },
    {
      id: 'vmcore',
      long: ['vmcore'],
      arg: 'FILE',
      default: '/proc/vmcore',
      complete: 'file',
      help: 'the dump to save',
    },
    { id: 'noAction', long: ['no-action'], help: 'save only; do not reboot, power off or start a shell' },
    ...COMMON,
  ],
  run: async (v, ctx) => {
    const { cmd, run } = await service(ctx, v);
    return cmd.kdumpSaveCommand(run, { dir: v.dir, vmcore: v.vmcore, noAction: v.noAction });
  },
});

const INSTALL_UNIT = defineCommand({
  name: 'install-unit',
  summary: "write the boot-time unit that runs 'kdump load'",
  description: [
    `Writes ${SYSTEMD_DIR}/${UNIT_NAME} (with --sysv: ${SYSV_DIR}/${SYSV_NAME}) with the absolute ` +
      'paths of the Node and kexec-ts that run it.',
  ],
  options: [
    { id: 'sysv', long: ['sysv'], help: 'an init.d script for systems without systemd' },
    {
      id: 'dir',
      long: ['dir'],
      arg: 'DIR',
      complete: 'dir',
      help: `where to write it (default ${SYSTEMD_DIR}, with --sysv ${SYSV_DIR})`,
    },
    { id: 'print', long: ['print'], help: 'print it instead of writing it' },
    ...COMMON,
  ],
  run: async (v, { io }) => {
    const cmd = await import('../../kdump/service/command.js');
    return cmd.kdumpInstallUnitCommand({ io, json: v.json }, v);
  },
});

export const KDUMP = defineCommand({
  name: 'kdump',
  summary: 'the kdump service: a capture kernel loaded at boot that saves a dump after a crash',
  description: [
    `Loads a capture kernel at boot, and in it saves the crashed kernel's log and memory, as ` +
      `kdump-tools does. Configured in ${CONFIG_PATH} (KEY=VALUE lines).`,
  ],
  subcommands: [LOAD, UNLOAD, STATUS, BUILD_INITRD, SAVE, INSTALL_UNIT],
  seeAlso: ['kexec-ts-vmcore(8)', 'makedumpfile(8)'],
});
