// `kexec-ts lab ...`: try kexec in a QEMU guest (lab/command.ts does the work; docs/lab.md).
import { KexecError, UsageError } from '../../errors.js';
import { labDir } from '../../lab/paths.js';
import { defineCommand, JSON_OPTION, type OptionSpec } from '../command.js';

const KERNEL = {
  id: 'kernel',
  long: ['kernel'],
  arg: 'PKG',
  help: 'the Debian kernel package the guest boots (default linux-image-cloud-amd64)',
} as const satisfies OptionSpec;
const OVMF = { id: 'ovmf', long: ['ovmf'], help: 'boot the guest with UEFI firmware (OVMF)' } as const;

const SETUP = defineCommand({
  name: 'setup',
  summary: 'install the host tools and fetch the guest packages',
  description: [
    'Installs qemu, busybox, cpio, ovmf and zstd with apt if missing; downloads and unpacks (never ' +
      'installs) the guest kernel, kexec-tools and makedumpfile into the cache.',
  ],
  options: [KERNEL],
  run: async ({ kernel }, { io }) => (await import('../../lab/command.js')).labSetupCommand(io, { kernel }),
});

const BUILD = defineCommand({
  name: 'build',
  summary: 'build the guest initramfs',
  description: ['Node, the installed kexec-ts, busybox and kexec-tools; cached by the hash of its inputs.'],
  options: [KERNEL],
  run: async ({ kernel }, { io }) => (await import('../../lab/command.js')).labBuildCommand(io, { kernel }),
});

const BOOT = defineCommand({
  name: 'boot',
  summary: 'boot the guest with its serial console on this terminal',
  description: ['QEMU owns the terminal: Ctrl-A X quits, Ctrl-A C opens its monitor.'],
  options: [
    KERNEL,
    OVMF,
    { id: 'append', long: ['append'], arg: 'STR', help: "added to the guest kernel's command line" },
  ],
  run: async (v, { io }) => (await import('../../lab/command.js')).labBootCommand(io, v),
});

const DEMO = defineCommand({
  name: 'demo',
  summary: 'kexec with kexec-ts, then a firmware reboot; print both timelines',
  options: [
    JSON_OPTION,
    OVMF,
    { id: 'withKexecTools', long: ['with-kexec-tools'], help: "kexec with Debian's kexec-tools instead" },
  ],
  run: async (v, { io }) => (await import('../../lab/command.js')).labDemoCommand(io, v),
});

export const LAB = defineCommand({
  name: 'lab',
  summary: 'try kexec safely in a QEMU guest',
  manSection: 1,
  description: ["Try kexec safely in a QEMU guest (TCG); nothing here touches the host's kernel."],
  notes: [`Cache: $KEXEC_TS_LAB_DIR, or \${XDG_CACHE_HOME:-~/.cache}/kexec-ts/lab.`],
  helpNow: () => `The cache now: ${labDir()}`,
  subcommands: [SETUP, BUILD, BOOT, DEMO],
  // The lab's statuses since it has had them: 2 for bad usage, 1 for a lab that failed.
  exitFor: (e) => (e instanceof UsageError ? 2 : e instanceof KexecError ? 1 : undefined),
  exitStatus: ['0 done; 1 the lab failed (a tool missing, the guest did not answer); 2 bad usage.'],
});
