// Loading a kernel: choose the syscall (file load first, as kexec-tools >= 2.0.27), prepare the image
// (whole-file decompression into a memfd), check what can be checked before any syscall, then load.
import { FormatError, StateError, SyscallError, UsageError } from '../errors.js';
import { type PreparedKernel, prepareKernel } from '../formats/probe.js';
import { FALLBACK_ERRNOS } from '../sys/errno.js';
import {
  KEXEC_FILE_NO_INITRAMFS,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_UNLOAD,
  KEXEC_ON_CRASH,
  type Sys,
} from '../sys/types.js';
import { hasCrashReservation } from './iomem.js';
import { describePlan } from './x86/bzimage64-load.js';
import { planX86_64KexecLoad } from './x86/plan-from-sys.js';

export type SyscallChoice = 'auto' | 'file' | 'load';

export interface LoadRequest {
  kernel: string;
  initrd?: string | undefined;
  cmdline: string;
  crash: boolean;
  syscall: SyscallChoice;
  /** kexec_load placement bounds (--mem-min/--mem-max, inclusive). */
  memMin?: bigint | undefined;
  memMax?: bigint | undefined;
  /** -i: purgatory skips its digest check (kexec_load only). */
  noChecks?: boolean | undefined;
}

export interface LoadResult {
  syscall: 'kexec_file_load' | 'kexec_load';
  kernelType: string;
  /** Whole-file compression that was undone before loading, if any. */
  compression?: string | undefined;
  flags: number;
  cmdline: string;
  /** Why we fell back from kexec_file_load, when we did. */
  fallbackFrom?: SyscallError | undefined;
}

/** What the x86 setup header allows, without the terminating NUL (Documentation/arch/x86/boot.rst). */
const DEFAULT_CMDLINE_MAX = 2047;

/** The kernel's own limit: setup header cmdline_size (2.06+); before 2.06 it was 255 (boot.rst, cmdline_size). */
function cmdlineMax(prepared: PreparedKernel): number {
  const m = prepared.match;
  if (m.name !== 'bzImage64' && m.name !== 'bzImage') return DEFAULT_CMDLINE_MAX;
  return m.header.header.cmdline_size ?? 255;
}

/** What the running kernel's kexec_file_load takes: on x86_64 only bzImage64 (arch/x86/kernel/kexec-bzimage64.c). */
function fileLoadable(sys: Sys, prepared: PreparedKernel): boolean {
  return sys.arch === 'x86_64' && prepared.match.name === 'bzImage64';
}

/** Thrown with -s when file load failed with an errno kexec-tools would fall back on: exit 253. */
export class FallbackNeededError extends SyscallError {
  override readonly code = 'E_FALLBACK';
}

export function requireCrashReservation(sys: Sys): void {
  if (!hasCrashReservation(sys.readText('/proc/iomem'), sys.readText('/sys/kernel/kexec_crash_size'))) {
    throw new StateError('Memory for crashkernel is not reserved', {
      hint: 'boot the running kernel with crashkernel=SIZE (e.g. crashkernel=256M) and try -p again; kexec-ts doctor shows the reservation',
    });
  }
}

export function loadKernel(sys: Sys, req: LoadRequest, debug: (s: string) => void = () => {}): LoadResult {
  if (req.crash) requireCrashReservation(sys);
  const prepared = prepareKernel(sys.readFile(req.kernel), req.kernel);
  const kernelType = prepared.match.name;
  debug(
    `kernel ${req.kernel}: ${kernelType}${prepared.compression ? `, ${prepared.compression}-compressed file` : ''}`,
  );
  const maxCmdline = cmdlineMax(prepared);
  if (Buffer.byteLength(req.cmdline) > maxCmdline) {
    throw new UsageError(
      `command line is ${Buffer.byteLength(req.cmdline)} bytes; ${req.kernel} accepts at most ${maxCmdline}`,
      { hint: 'shorten --append/--command-line (the limit is the kernel setup header cmdline_size)' },
    );
  }
  if (req.syscall === 'load') return kexecLoadPath(sys, req, prepared, debug);
  if (!fileLoadable(sys, prepared)) {
    if (req.syscall === 'file') {
      throw new FormatError(
        `${req.kernel} is ${kernelType}; kexec_file_load on ${sys.arch} takes a bzImage (64-bit, boot protocol >= 2.12)`,
        kernelType,
        undefined,
        { hint: 'use a bzImage (/boot/vmlinuz-*), or the kexec_load path (-c) when it supports this type' },
      );
    }
    return kexecLoadPath(sys, req, prepared, debug);
  }
  let flags = 0;
  if (req.crash) flags |= KEXEC_FILE_ON_CRASH;
  // Pass the original file when nothing was undone, so IMA can see its xattrs (kexec-tools master does too).
  const kernelFd = prepared.compression
    ? sys.memfdFromBytes('kernel', prepared.bytes)
    : sys.openRead(req.kernel);
  let initrdFd = -1;
  try {
    if (req.initrd !== undefined) initrdFd = sys.openRead(req.initrd);
    else flags |= KEXEC_FILE_NO_INITRAMFS;
    debug(
      `kexec_file_load(kernel_fd=${kernelFd}, initrd_fd=${initrdFd}, cmdline=${JSON.stringify(req.cmdline)}, flags=0x${flags.toString(16)})`,
    );
    try {
      sys.kexecFileLoad(kernelFd, initrdFd, req.cmdline, flags);
    } catch (err) {
      if (!(err instanceof SyscallError) || !FALLBACK_ERRNOS.has(err.errno)) throw err;
      if (req.syscall === 'file') {
        throw new FallbackNeededError(err.syscall, err.args, err.errno, err.errnoValue, {
          hint: err.hint,
          cause: err,
        });
      }
      debug(`${err.message}: falling back to kexec_load`);
      return kexecLoadPath(sys, req, prepared, debug, err);
    }
  } finally {
    sys.close(kernelFd);
    if (initrdFd >= 0) sys.close(initrdFd);
  }
  return {
    syscall: 'kexec_file_load',
    kernelType,
    compression: prepared.compression,
    flags,
    cmdline: req.cmdline,
  };
}

/** kexec_load: our own loader builds every segment and the purgatory (src/kexec/x86). */
function kexecLoadPath(
  sys: Sys,
  req: LoadRequest,
  prepared: PreparedKernel,
  debug: (s: string) => void,
  fallbackFrom?: SyscallError,
): LoadResult {
  const kernelType = prepared.match.name;
  if (sys.arch !== 'x86_64' || kernelType !== 'bzImage64') {
    const prefix = fallbackFrom ? `${fallbackFrom.message}, and the kexec_load fallback` : 'kexec_load (-c)';
    throw new UsageError(
      `${prefix} has no ${kernelType} loader for ${sys.arch} in this version of kexec-ts`,
      {
        hint: fallbackFrom?.hint ?? 'use kexec_file_load (the default, or -s) with a bzImage kernel',
        cause: fallbackFrom,
      },
    );
  }
  const plan = planX86_64KexecLoad(sys, {
    image: prepared.bytes,
    ...(req.initrd === undefined ? {} : { initrd: sys.readFile(req.initrd) }),
    cmdline: req.cmdline,
    crash: req.crash,
    noChecks: req.noChecks ?? false,
    ...(req.memMin === undefined ? {} : { memMin: req.memMin }),
    ...(req.memMax === undefined ? {} : { memMax: req.memMax }),
  });
  for (const line of describePlan(plan)) debug(line);
  sys.kexecLoad(plan.entry, plan.segments, plan.flags);
  return {
    syscall: 'kexec_load',
    kernelType,
    compression: prepared.compression,
    flags: plan.flags,
    cmdline: req.cmdline,
    fallbackFrom,
  };
}

/** -u: unload the image (or with crash, the crash image). Mirrors kexec-tools' syscall choice. */
export function unloadKernel(
  sys: Sys,
  crash: boolean,
  syscall: SyscallChoice,
): 'kexec_file_load' | 'kexec_load' {
  if (syscall !== 'load') {
    try {
      sys.kexecFileLoad(-1, -1, '', KEXEC_FILE_UNLOAD | (crash ? KEXEC_FILE_ON_CRASH : 0));
      return 'kexec_file_load';
    } catch (err) {
      if (syscall === 'file' || !(err instanceof SyscallError) || !FALLBACK_ERRNOS.has(err.errno)) throw err;
    }
  }
  // kexec_load with no segments unloads (kernel/kexec.c do_kexec_load()).
  sys.kexecLoad(0n, [], crash ? KEXEC_ON_CRASH : 0);
  return 'kexec_load';
}
