// Runs a kexec-tools style invocation in kexec-tools' fixed order: unload, load, shutdown, sync,
// ifdown, exec. Exit codes follow kexec-tools (see report.ts).
import { buildCmdline } from '../kexec/cmdline.js';
import { crashKernelSize, readCrashKernel } from '../kexec/crash.js';
import { execLoaded, handOffToInit, KEXEC_CRASH_LOADED, KEXEC_LOADED, readLoaded } from '../kexec/exec.js';
import { loadKernel, unloadKernel } from '../kexec/load.js';
import type { Io } from '../sys/io.js';
import type { Sys } from '../sys/types.js';
import type { Invocation } from './invocation.js';

export interface RunKexecHooks {
  /** --require-signed: the signature check, loaded by the caller only when asked for. */
  checkImage?: (path: string, kernel: Uint8Array) => void;
}

export function runKexec(inv: Invocation, sys: Sys, io: Io, hooks: RunKexecHooks = {}): number {
  const debug = inv.debug ? (s: string) => io.stderr(`kexec-ts: ${s}\n`) : () => {};
  for (const note of inv.notes) debug(note);
  if (inv.mode === 'status') return status(inv, sys, io);
  if (inv.mode === 'print-ckr-size') {
    const size = crashKernelSize(readCrashKernel(sys));
    io.stdout(inv.json ? `${JSON.stringify({ crashKernelSize: Number(size) })}\n` : `${size}\n`);
    return 0;
  }
  if (inv.unload) {
    const via = unloadKernel(sys, inv.crash, inv.syscall);
    debug(`unloaded ${inv.crash ? 'crash ' : ''}kernel with ${via}`);
  }
  if (inv.load && inv.kernel !== undefined) {
    const cmdline = buildCmdline(
      {
        append: inv.append,
        reuseCmdline: inv.reuseCmdline,
        reuseConsole: inv.reuseConsole,
        crash: inv.crash,
      },
      inv.reuseCmdline || inv.reuseConsole ? sys.readText('/proc/cmdline') : undefined,
    );
    const result = loadKernel(
      sys,
      {
        kernel: inv.kernel,
        initrd: inv.initrd,
        cmdline,
        crash: inv.crash,
        syscall: inv.syscall,
        memMin: inv.memMin,
        memMax: inv.memMax,
        noChecks: inv.noChecks,
        noEfi: inv.noEfi,
        type: inv.type,
        checkImage: hooks.checkImage,
      },
      debug,
    );
    if (inv.json && !inv.exec && !inv.shutdown) io.stdout(`${JSON.stringify({ loaded: result })}\n`);
    debug(`loaded ${inv.kernel} (${result.kernelType}) with ${result.syscall}`);
  }
  if (inv.shutdown && inv.load) {
    const { argv, status } = handOffToInit(sys);
    debug(`${argv.join(' ')} exited ${status}`);
    return status === 0 ? 0 : 1;
  }
  if (inv.exec) {
    execLoaded(sys, { sync: inv.sync, ifdown: inv.ifdown }, debug);
    return 0;
  }
  // -l syncs after a successful load (kexec-tools does; a crash after -l must not lose data).
  if (inv.sync && inv.load) {
    debug('sync()');
    sys.sync();
  }
  return 0;
}

/** -S: exit 1 if loaded, 0 if not, 255 when the kernel has no such file (kexec-tools' values). */
function status(inv: Invocation, sys: Sys, io: Io): number {
  const path = inv.statusOfNormal ? KEXEC_LOADED : KEXEC_CRASH_LOADED;
  const loaded = readLoaded(sys, path);
  if (inv.json)
    io.stdout(`${JSON.stringify({ file: path, loaded: loaded === undefined ? null : loaded === 1 })}\n`);
  if (loaded === undefined) {
    io.stderr(`kexec-ts: ${path} does not exist: this kernel cannot kexec\n`);
    return 255;
  }
  return loaded;
}
