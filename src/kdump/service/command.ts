// `kexec-ts kdump load|unload|status|build-initrd|save`: the kdump service (docs/kdump-service.md).
import { mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../../errors.js';
import type { Io } from '../../sys/io.js';
import { kernelRelease } from '../../sys/machine.js';
import type { Sys } from '../../sys/types.js';
import { openFileReader } from '../file-reader.js';
import { CONFIG_PATH, loadKdumpConfig } from './config.js';
import { nodeHost, type ServiceHost } from './host.js';
import { buildCaptureInitrd, type InitrdCompression, kexecTsPackageDir, runningRoot } from './initrd.js';
import { captureKernel, kdumpLoad, kdumpUnload, planKdumpLoad } from './load.js';
import { kdumpAction, kdumpSave } from './save.js';
import { formatKdumpStatus, kdumpStatus } from './status.js';
import { installUnit, kexecTsCommand, SYSTEMD_DIR, SYSV_DIR, systemdUnit, sysvScript } from './unit.js';

export const KDUMP_USAGE = `Usage: kexec-ts kdump COMMAND [options]
  load [--dry-run] [--json]   load the capture kernel into the crashkernel= reservation
  unload                      unload it
  status [--json]             is this machine protected? exit 0 yes, 1 no
  build-initrd [-o FILE] [--compress gzip|zstd|none]
                              build the capture initramfs (default: INITRD from the config)
  save [--dir DIR] [--vmcore FILE] [--no-action]
                              in the capture kernel: dmesg.txt, then vmcore, into DIR/<time>/; then ACTION
  install-unit [--sysv] [--dir DIR] [--print]
                              write the boot-time unit (${SYSTEMD_DIR}/kexec-ts-kdump.service; --sysv:
                              ${SYSV_DIR}/kexec-ts-kdump) that runs 'kdump load' at boot
Common: --config FILE (default ${CONFIG_PATH}).
`;

export interface KdumpContext {
  io: Io;
  getSys(): Promise<Sys>;
  host?: ServiceHost;
}

class Args {
  constructor(
    readonly rest: string[],
    private readonly cmd: string,
  ) {}
  flag(name: string): boolean {
    const i = this.rest.indexOf(name);
    if (i < 0) return false;
    this.rest.splice(i, 1);
    return true;
  }
  value(...names: string[]): string | undefined {
    for (let i = 0; i < this.rest.length; i++) {
      const a = this.rest[i]!;
      for (const n of names) {
        if (a === n) {
          const v = this.rest[i + 1];
          if (v === undefined) throw new UsageError(`kdump ${this.cmd}: option '${n}' requires an argument`);
          this.rest.splice(i, 2);
          return v;
        }
        if (a.startsWith(`${n}=`)) {
          this.rest.splice(i, 1);
          return a.slice(n.length + 1);
        }
      }
    }
    return undefined;
  }
  done(): void {
    if (this.rest.length)
      throw new UsageError(`kdump ${this.cmd}: unexpected argument '${this.rest[0]}'`, {
        hint: 'kexec-ts kdump --help',
      });
  }
}

function rootOf(sys: Sys): { runningRoot?: string } {
  const r = runningRoot(sys.readText('/proc/cmdline'), sys.readText('/proc/self/mountinfo'));
  return r === undefined ? {} : { runningRoot: r };
}

export async function kdumpCommand(argv: string[], ctx: KdumpContext): Promise<number> {
  const [cmd, ...restArgs] = argv;
  const { io } = ctx;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout(KDUMP_USAGE);
    return cmd === undefined ? 1 : 0;
  }
  if (restArgs.includes('--help') || restArgs.includes('-h')) {
    io.stdout(KDUMP_USAGE); // before getSys(): help needs no kernel access
    return 0;
  }
  const a = new Args([...restArgs], cmd);
  const configPath = a.value('--config') ?? CONFIG_PATH;
  const json = a.flag('--json');
  const sys = await ctx.getSys();
  const host = ctx.host ?? nodeHost;
  const config = () => loadKdumpConfig((p) => sys.readText(p), configPath);
  switch (cmd) {
    case 'load': {
      const dry = a.flag('--dry-run');
      a.done();
      const cfg = config();
      const plan = planKdumpLoad(sys, cfg);
      if (dry) {
        io.stdout(
          json
            ? `${JSON.stringify({ dryRun: true, ...plan }, null, 2)}\n`
            : `would load (kexec_file_load, crash):\n  kernel  ${plan.kernel}\n  initrd  ${plan.initrd}\n  cmdline ${plan.cmdline}\n`,
        );
        return 0;
      }
      // REQUIRE_SIGNED=yes: the signature check (and its ASN.1 stack) is loaded only when asked for.
      const gate = cfg.requireSigned ? await import('../../kexec/signature-gate.js') : undefined;
      const r = kdumpLoad(
        sys,
        plan,
        undefined,
        gate && ((path, kernel) => gate.requireSignedImage(sys, path, kernel, cfg.trustCerts)),
      );
      io.stdout(
        json
          ? `${JSON.stringify({ ...plan, syscall: r.syscall, flags: r.flags }, null, 2)}\n`
          : `capture kernel loaded (${r.syscall}): ${plan.kernel} ${plan.initrd}\n  cmdline ${r.cmdline}\n`,
      );
      return 0;
    }
    case 'unload': {
      a.done();
      const via = kdumpUnload(sys);
      io.stdout(
        json ? `${JSON.stringify({ unloaded: true, syscall: via })}\n` : `capture kernel unloaded (${via})\n`,
      );
      return 0;
    }
    case 'status': {
      a.done();
      const s = kdumpStatus(sys, host, configPath);
      io.stdout(json ? `${JSON.stringify(s, null, 2)}\n` : formatKdumpStatus(s));
      return s.protected ? 0 : 1;
    }
    case 'build-initrd': {
      const out = a.value('-o', '--output');
      const compress = a.value('--compress') ?? 'gzip';
      if (!['gzip', 'zstd', 'none'].includes(compress))
        throw new UsageError(`kdump build-initrd: --compress takes gzip, zstd or none, not '${compress}'`);
      a.done();
      const cfg = config();
      const output = out ?? cfg.initrd;
      mkdirSync(dirname(output), { recursive: true });
      const r = await buildCaptureInitrd({
        output,
        config: cfg,
        kernel: captureKernel(sys, cfg),
        release: kernelRelease(sys) ?? '',
        compression: compress as InitrdCompression,
        ...rootOf(sys),
        sys,
      });
      io.stdout(
        json
          ? `${JSON.stringify(r, null, 2)}\n`
          : `${r.output}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB ${r.compression} (${(r.unpacked / 2 ** 20).toFixed(1)} MiB unpacked, ${r.files} entries); Node from ${r.nodeFrom === 'root' ? `${r.root} (mounted by the capture kernel)` : 'the image'}\n`,
      );
      return 0;
    }
    case 'save': {
      const cfg = config();
      const dir = a.value('--dir') ?? cfg.target;
      const vmcore = a.value('--vmcore') ?? '/proc/vmcore';
      const noAction = a.flag('--no-action');
      a.done();
      const reader = openFileReader(vmcore);
      let status = 0;
      try {
        const r = kdumpSave(reader, cfg, dir, { log: (l) => io.stderr(`${l}\n`) });
        io.stdout(
          json ? `${JSON.stringify(r)}\n` : `saved ${r.files.map((f) => f.name).join(', ')} to ${r.dir}\n`,
        );
      } catch (e) {
        if (noAction || cfg.action === 'shell') throw e;
        // The dump failed, but the machine must still come back (kdump-tools' default too).
        io.stderr(`kexec-ts: kdump save failed: ${e instanceof Error ? e.message : String(e)}\n`);
        status = 1;
      } finally {
        reader.close();
      }
      if (!noAction) kdumpAction(sys, cfg.action);
      return status;
    }
    case 'install-unit': {
      const sysv = a.flag('--sysv');
      const print = a.flag('--print');
      const dir = a.value('--dir') ?? (sysv ? SYSV_DIR : SYSTEMD_DIR);
      a.done();
      const node = realpathSync(process.execPath);
      const entry = join(kexecTsPackageDir(), 'dist/src/bin/kexec-ts.js');
      const run = kexecTsCommand(node, entry);
      if (print) {
        io.stdout(sysv ? sysvScript(run) : systemdUnit(run));
        return 0;
      }
      const r = installUnit(sysv ? 'sysv' : 'systemd', dir, run);
      io.stdout(
        json
          ? `${JSON.stringify({ path: r.path, kind: r.kind })}\n`
          : `wrote ${r.path}\n${
              sysv
                ? `enable it: update-rc.d ${basename(r.path)} defaults (Debian sysvinit), or run '${r.path} start' from the boot scripts\n`
                : `enable it: systemctl daemon-reload && systemctl enable --now ${basename(r.path)}\n`
            }`,
      );
      return 0;
    }
    default:
      throw new UsageError(`kdump: unknown command '${cmd}'`, {
        hint: 'kexec-ts kdump load|unload|status|build-initrd|save|install-unit',
      });
  }
}
