// `kexec-ts lab ...`: the CLI face of the lab. The dispatcher calls labCommand(argv.slice(1), out).
import { KexecError, UsageError } from '../errors.js';
import { realSys } from '../sys/index.js';
import { formatDemo, labDemo } from './demo.js';
import { prepareLab } from './guest.js';
import { labBuild } from './initramfs.js';
import { labDir } from './paths.js';
import { qemuArgv } from './qemu.js';
import { labSetup } from './setup.js';

export interface LabOut {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const LAB_HELP = `Usage: kexec-ts lab COMMAND [OPTIONS]

Try kexec safely in a QEMU guest (TCG); nothing here touches the host's kernel.

Commands:
  setup [--kernel PKG]    install qemu/busybox/cpio/ovmf/zstd with apt if missing; download and unpack
                          (never install) the guest kernel (default: linux-image-cloud-amd64),
                          kexec-tools and makedumpfile into the cache
  build                   build the guest initramfs (node, installed kexec-ts, busybox, kexec-tools)
  boot [--ovmf] [--append STR]
                          boot the guest with its serial console on this terminal (Ctrl-A X quits)
  demo [--json] [--ovmf] [--with-kexec-tools]
                          kexec with kexec-ts (or Debian's kexec-tools), then a firmware reboot;
                          print both timelines

Cache: ${'$'}KEXEC_TS_LAB_DIR or \${XDG_CACHE_HOME:-~/.cache}/kexec-ts/lab (now ${labDir()})
`;

export async function labCommand(argv: string[], out: LabOut): Promise<number> {
  const log = (l: string) => out.stderr(`lab: ${l}\n`);
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    out.stdout(LAB_HELP);
    return 0;
  }
  try {
    const flags = parseFlags(rest);
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out.stdout(LAB_HELP);
        return cmd === undefined ? 1 : 0;
      case 'setup': {
        const s = await labSetup({
          log,
          refresh: true,
          ...(flags.kernel ? { kernelPackage: flags.kernel } : {}),
        });
        out.stdout(`kernel ${s.kernelPackage} (${s.kernelRelease})\n${s.vmlinuz}\n`);
        if (s.note) out.stdout(`note: ${s.note}\n`);
        return 0;
      }
      case 'build': {
        const setup = await labSetup({ log, ...(flags.kernel ? { kernelPackage: flags.kernel } : {}) });
        const b = await labBuild({ setup, log });
        out.stdout(`${b.initrd}\nnonce ${b.nonce}\n`);
        return 0;
      }
      case 'boot':
        return await boot(flags, log);
      case 'demo': {
        const r = await labDemo({
          log,
          ...(flags.ovmf ? { ovmf: true } : {}),
          ...(flags.kexecTools ? { tool: 'kexec-tools' as const } : {}),
        });
        out.stdout(flags.json ? `${JSON.stringify(r, null, 2)}\n` : formatDemo(r));
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`, { hint: 'kexec-ts lab --help' });
    }
  } catch (e) {
    if (e instanceof KexecError) {
      out.stderr(`kexec-ts lab: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
      return e instanceof UsageError ? 2 : 1;
    }
    throw e;
  }
}

interface Flags {
  kernel?: string;
  append?: string;
  ovmf?: boolean;
  json?: boolean;
  kexecTools?: boolean;
}

function parseFlags(args: string[]): Flags {
  const f: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`, { hint: 'kexec-ts lab --help' });
      return v;
    };
    if (name === '--kernel') f.kernel = value();
    else if (name === '--append') f.append = value();
    else if (name === '--ovmf') f.ovmf = true;
    else if (name === '--json') f.json = true;
    else if (name === '--with-kexec-tools') f.kexecTools = true;
    else throw new UsageError(`unknown option ${a}`, { hint: 'kexec-ts lab --help' });
  }
  return f;
}

/** Interactive: QEMU owns the terminal (raw mode, Ctrl-A X to quit, Ctrl-A C for its monitor). */
async function boot(flags: Flags, log: (l: string) => void): Promise<number> {
  const { build } = await prepareLab({ log, ...(flags.kernel ? { kernelPackage: flags.kernel } : {}) });
  const argv = qemuArgv(
    {
      kernel: build.kernel,
      initrd: build.initrd,
      ...(flags.append ? { append: flags.append } : {}),
      ...(flags.ovmf ? { ovmf: true } : {}),
    },
    'mon:stdio',
  );
  log(`${argv.join(' ')}`);
  log('Ctrl-A X quits QEMU');
  return realSys().spawn(argv);
}
