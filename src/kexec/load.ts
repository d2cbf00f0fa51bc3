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
import { hasCrashReservation } from './crash.js';
import { describePlan } from './x86/bzimage64-load.js';
import { forcedType } from './x86/file-types.js';
import { planX86_64KexecLoad, type X86_64Loader } from './x86/plan-from-sys.js';

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
  /** --noefi: no EFI hand-off to the new kernel (kexec_load only). */
  noEfi?: boolean | undefined;
  /** -t / --type: force a kexec-tools loader by name (kexec_load only, as in kexec-tools). */
  type?: string | undefined;
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

/**
 * What the running kernel's kexec_file_load takes: on x86_64 only bzImage64 (arch/x86/kernel/kexec-bzimage64.c);
 * on arm64 and riscv64 an Image (arch/arm64/kernel/kexec_image.c, arch/riscv/kernel/kexec_image.c).
 */
function fileLoadable(sys: Sys, prepared: PreparedKernel): boolean {
  const name = prepared.match.name;
  if (sys.arch === 'x86_64') return name === 'bzImage64';
  return (
    (sys.arch === 'aarch64' && name === 'arm64-Image') || (sys.arch === 'riscv64' && name === 'riscv64-Image')
  );
}

/** systemd unwraps a UKI or zboot image only when the kernel refused it with one of these (reboot-util.c). */
const UNWRAP_ERRNOS: ReadonlySet<string> = new Set(['ENOEXEC', 'EINVAL']);

/** Thrown with -s when file load failed with an errno kexec-tools would fall back on: exit 253. */
export class FallbackNeededError extends SyscallError {
  static override readonly code = 'E_FALLBACK';
}

export function requireCrashReservation(sys: Sys): void {
  if (!hasCrashReservation(sys)) {
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
  // A UKI or zboot image: the kernel that will run is the one inside. A UKI's .cmdline is used when
  // no command line was given, its .initrd when no --initrd was (docs/cli.md, "Loading").
  const wrapped = prepared.wrapped;
  const target = wrapped?.kernel ?? prepared;
  if (wrapped)
    debug(
      `${wrapped.kind}: wraps a ${target.match.name}${target.compression ? ` (${target.compression})` : ''}`,
    );
  const cmdline = req.cmdline === '' && wrapped?.cmdline !== undefined ? wrapped.cmdline : req.cmdline;
  const embeddedInitrd = req.initrd === undefined ? wrapped?.initrd : undefined;
  const maxCmdline = cmdlineMax(target);
  if (Buffer.byteLength(cmdline) > maxCmdline) {
    throw new UsageError(
      `command line is ${Buffer.byteLength(cmdline)} bytes; ${req.kernel} accepts at most ${maxCmdline}`,
      { hint: 'shorten --append/--command-line (the limit is the kernel setup header cmdline_size)' },
    );
  }
  const inner: LoadInputs = { prepared: target, outer: prepared, cmdline, initrd: embeddedInitrd };
  if (req.syscall === 'load') return kexecLoadPath(sys, req, inner, debug);
  if (!fileLoadable(sys, target)) {
    if (req.syscall === 'file') {
      throw new FormatError(
        `${req.kernel} is ${kernelType}; kexec_file_load on ${sys.arch} takes a bzImage (64-bit, boot protocol >= 2.12)`,
        kernelType,
        undefined,
        { hint: 'use a bzImage (/boot/vmlinuz-*), or the kexec_load path (-c) when it supports this type' },
      );
    }
    return kexecLoadPath(sys, req, inner, debug);
  }
  let flags = req.crash ? KEXEC_FILE_ON_CRASH : 0;
  try {
    if (wrapped) {
      // As systemd does: offer the file as it is first, and unwrap only when the kernel refuses it.
      try {
        fileLoad(
          sys,
          req,
          { kernelFd: sys.openRead(req.kernel), initrd: undefined, cmdline: req.cmdline, flags },
          debug,
        );
        return {
          syscall: 'kexec_file_load',
          kernelType,
          flags: lastFlags(req, undefined, flags),
          cmdline: req.cmdline,
        };
      } catch (err) {
        if (!(err instanceof SyscallError) || !UNWRAP_ERRNOS.has(err.errno)) throw err;
        debug(`${err.message}: unwrapping the ${wrapped.kind} into memfds`);
      }
    }
    // Pass the original file when nothing was undone, so IMA can see its xattrs (kexec-tools master does too).
    const kernelFd =
      wrapped || prepared.compression ? sys.memfdFromBytes('kernel', target.bytes) : sys.openRead(req.kernel);
    fileLoad(sys, req, { kernelFd, initrd: embeddedInitrd, cmdline, flags }, debug);
    flags = lastFlags(req, embeddedInitrd, flags);
  } catch (err) {
    if (!(err instanceof SyscallError) || !FALLBACK_ERRNOS.has(err.errno)) throw err;
    if (req.syscall === 'file') {
      throw new FallbackNeededError(err.syscall, err.args, err.errno, err.errnoValue, {
        hint: err.hint,
        cause: err,
      });
    }
    debug(`${err.message}: falling back to kexec_load`);
    return kexecLoadPath(sys, req, inner, debug, err);
  }
  return {
    syscall: 'kexec_file_load',
    kernelType,
    compression: target.compression ?? prepared.compression,
    flags,
    cmdline,
  };
}

/** The kernel, command line and embedded initrd that the loaders use (a UKI's, when unwrapped). */
interface LoadInputs {
  prepared: PreparedKernel;
  /** The file itself after whole-file decompression (the UKI, when `prepared` is its .linux). */
  outer: PreparedKernel;
  cmdline: string;
  initrd: Uint8Array | undefined;
}

function lastFlags(req: LoadRequest, embedded: Uint8Array | undefined, flags: number): number {
  return req.initrd === undefined && embedded === undefined ? flags | KEXEC_FILE_NO_INITRAMFS : flags;
}

/** One kexec_file_load call; takes ownership of kernelFd and closes every fd it opened. */
function fileLoad(
  sys: Sys,
  req: LoadRequest,
  call: { kernelFd: number; initrd: Uint8Array | undefined; cmdline: string; flags: number },
  debug: (s: string) => void,
): void {
  let initrdFd = -1;
  try {
    if (call.initrd !== undefined) initrdFd = sys.memfdFromBytes('initrd', call.initrd);
    else if (req.initrd !== undefined) initrdFd = sys.openRead(req.initrd);
    const flags = lastFlags(req, call.initrd, call.flags);
    debug(
      `kexec_file_load(kernel_fd=${call.kernelFd}, initrd_fd=${initrdFd}, cmdline=${JSON.stringify(call.cmdline)}, flags=0x${flags.toString(16)})`,
    );
    sys.kexecFileLoad(call.kernelFd, initrdFd, call.cmdline, flags);
  } finally {
    sys.close(call.kernelFd);
    if (initrdFd >= 0) sys.close(initrdFd);
  }
}

/** kexec_load: our own loader builds every segment and the purgatory (src/kexec/x86). */
function kexecLoadPath(
  sys: Sys,
  req: LoadRequest,
  inputs: LoadInputs,
  debug: (s: string) => void,
  fallbackFrom?: SyscallError,
): LoadResult {
  const { prepared, cmdline } = inputs;
  const kernelType = prepared.match.name;
  const loader = x86Loader(sys, req, inputs);
  if (loader === undefined) {
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
    loader,
    image: prepared.bytes,
    ...(req.initrd === undefined
      ? inputs.initrd === undefined
        ? {}
        : { initrd: inputs.initrd }
      : { initrd: sys.readFile(req.initrd) }),
    cmdline,
    crash: req.crash,
    noChecks: req.noChecks ?? false,
    ...(req.noEfi ? { efi: false } : {}),
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
    cmdline,
    fallbackFrom,
  };
}

/** The x86_64 loader for the image: the forced -t type's (kexec-tools' my_load rules), else by probe. */
function x86Loader(sys: Sys, req: LoadRequest, inputs: LoadInputs): X86_64Loader | undefined {
  if (sys.arch !== 'x86_64') return undefined;
  const name = inputs.prepared.match.name;
  if (req.type !== undefined) {
    const forced = forcedType(req.type, inputs.outer.bytes, req.kernel);
    // -t uki: the loader of the image inside, which must itself be one we load.
    if (forced !== 'uki') return forced;
  }
  return name === 'bzImage64' || name === 'elf-x86_64' ? name : undefined;
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
