// `kexec-ts kdump load|unload|status|build-initrd|save|install-unit`: the kdump service
// (docs/kdump-service.md). The commands' table is src/cli/commands/kdump.ts; these are what run() calls.
import { mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Io } from '../../sys/io.js';
import { kernelRelease } from '../../sys/machine.js';
import type { Sys } from '../../sys/types.js';
import { openFileReader } from '../file-reader.js';
import { loadKdumpConfig } from './config.js';
import { nodeHost, type ServiceHost } from './host.js';
import { buildCaptureInitrd, type InitrdCompression, kexecTsPackageDir, runningRoot } from './initrd.js';
import { captureKernel, kdumpLoad, kdumpUnload, planKdumpLoad } from './load.js';
import { kdumpAction, kdumpSave } from './save.js';
import { formatKdumpStatus, kdumpStatus } from './status.js';
import { installUnit, kexecTsCommand, SYSTEMD_DIR, SYSV_DIR, systemdUnit, sysvScript } from './unit.js';

export interface KdumpRun {
  io: Io;
  sys: Sys;
  /** --config */
  configPath: string;
  json: boolean;
  host?: ServiceHost;
}

function rootOf(sys: Sys): { runningRoot?: string } {
  const r = runningRoot(sys.readText('/proc/cmdline'), sys.readText('/proc/self/mountinfo'));
  return r === undefined ? {} : { runningRoot: r };
}

const config = (r: KdumpRun) => loadKdumpConfig((p) => r.sys.readText(p), r.configPath);

/** `kdump load`: the capture kernel into the crashkernel= reservation; `dryRun` prints the plan only. */
export async function kdumpLoadCommand(r: KdumpRun, o: { dryRun: boolean }): Promise<number> {
  const { io, json } = r;
  const cfg = config(r);
  const plan = planKdumpLoad(r.sys, cfg);
  if (o.dryRun) {
    io.stdout(
      json
        ? `${JSON.stringify({ dryRun: true, ...plan }, null, 2)}\n`
        : `would load (kexec_file_load, crash):\n  kernel  ${plan.kernel}\n  initrd  ${plan.initrd}\n  cmdline ${plan.cmdline}\n`,
    );
    return 0;
  }
  // REQUIRE_SIGNED=yes: the signature check (and its ASN.1 stack) is loaded only when asked for.
  const gate = cfg.requireSigned ? await import('../../kexec/signature-gate.js') : undefined;
  const res = kdumpLoad(
    r.sys,
    plan,
    undefined,
    gate && ((path, kernel) => gate.requireSignedImage(r.sys, path, kernel, cfg.trustCerts)),
  );
  io.stdout(
    json
      ? `${JSON.stringify({ ...plan, syscall: res.syscall, flags: res.flags }, null, 2)}\n`
      : `capture kernel loaded (${res.syscall}): ${plan.kernel} ${plan.initrd}\n  cmdline ${res.cmdline}\n`,
  );
  return 0;
}

export function kdumpUnloadCommand(r: KdumpRun): number {
  const via = kdumpUnload(r.sys);
  r.io.stdout(
    r.json ? `${JSON.stringify({ unloaded: true, syscall: via })}\n` : `capture kernel unloaded (${via})\n`,
  );
  return 0;
}

/** Exit 0 when the machine is protected, 1 when not. */
export function kdumpStatusCommand(r: KdumpRun): number {
  const s = kdumpStatus(r.sys, r.host ?? nodeHost, r.configPath);
  r.io.stdout(r.json ? `${JSON.stringify(s, null, 2)}\n` : formatKdumpStatus(s));
  return s.protected ? 0 : 1;
}

/** `output`: default the config's INITRD. */
export async function kdumpBuildInitrdCommand(
  r: KdumpRun,
  o: { output: string | undefined; compression: InitrdCompression },
): Promise<number> {
  const { sys } = r;
  const cfg = config(r);
  const output = o.output ?? cfg.initrd;
  mkdirSync(dirname(output), { recursive: true });
  const res = await buildCaptureInitrd({
    output,
    config: cfg,
    kernel: captureKernel(sys, cfg),
    release: kernelRelease(sys) ?? '',
    compression: o.compression,
    ...rootOf(sys),
    sys,
  });
  r.io.stdout(
    r.json
      ? `${JSON.stringify(res, null, 2)}\n`
      : `${res.output}: ${(res.bytes / 2 ** 20).toFixed(1)} MiB ${res.compression} (${(res.unpacked / 2 ** 20).toFixed(1)} MiB unpacked, ${res.files} entries); Node from ${res.nodeFrom === 'root' ? `${res.root} (mounted by the capture kernel)` : 'the image'}\n`,
  );
  return 0;
}

/** In the capture kernel: dmesg.txt, then vmcore, into DIR/<time>/; then the config's ACTION. */
export function kdumpSaveCommand(
  r: KdumpRun,
  o: { dir: string | undefined; vmcore: string; noAction: boolean },
): number {
  const { io } = r;
  const cfg = config(r);
  const reader = openFileReader(o.vmcore);
  let status = 0;
  try {
    const res = kdumpSave(reader, cfg, o.dir ?? cfg.target, { log: (l) => io.stderr(`${l}\n`) });
    io.stdout(
      r.json
        ? `${JSON.stringify(res)}\n`
        : `saved ${res.files.map((f) => f.name).join(', ')} to ${res.dir}\n`,
    );
  } catch (e) {
    if (o.noAction || cfg.action === 'shell') throw e;
    // The dump failed, but the machine must still come back (kdump-tools' default too).
    io.stderr(`kexec-ts: kdump save failed: ${e instanceof Error ? e.message : String(e)}\n`);
    status = 1;
  } finally {
    reader.close();
  }
  if (!o.noAction) kdumpAction(r.sys, cfg.action);
  return status;
}

/** The boot-time unit (or, `sysv`, init.d script) that runs `kdump load`; `print` writes it to stdout. */
export function kdumpInstallUnitCommand(
  r: Pick<KdumpRun, 'io' | 'json'>,
  o: { sysv: boolean; print: boolean; dir: string | undefined },
): number {
  const { io } = r;
  const node = realpathSync(process.execPath);
  const entry = join(kexecTsPackageDir(), 'dist/src/bin/kexec-ts.js');
  const run = kexecTsCommand(node, entry);
  if (o.print) {
    io.stdout(o.sysv ? sysvScript(run) : systemdUnit(run));
    return 0;
  }
  const res = installUnit(o.sysv ? 'sysv' : 'systemd', o.dir ?? (o.sysv ? SYSV_DIR : SYSTEMD_DIR), run);
  io.stdout(
    r.json
      ? `${JSON.stringify({ path: res.path, kind: res.kind })}\n`
      : `wrote ${res.path}\n${
          o.sysv
            ? `enable it: update-rc.d ${basename(res.path)} defaults (Debian sysvinit), or run '${res.path} start' from the boot scripts\n`
            : `enable it: systemctl daemon-reload && systemctl enable --now ${basename(res.path)}\n`
        }`,
  );
  return 0;
}
