// errno names, the hints we attach to failed kexec syscalls, and the SyscallError builder.
// kexec-tools only prints strerror(); the hints below say what each errno means for *this* call
// (kernel/kexec_file.c kexec_file_load and kimage_file_prepare_segments, kernel/kexec.c kexec_load and
// kexec_load_check, kernel/kexec_core.c kexec_trylock, kernel/reboot.c reboot; kexec-tools kexec/kexec.c
// decides which of them fall back to kexec_load).
import { SyscallError } from '../errors.js';
import { ERRNO_ALIASES, ERRNO_NAMES } from './errno-names.js';

export { ERRNO_ALIASES, ERRNO_NAMES } from './errno-names.js';

/** Symbolic name of an errno value; `E<n>` when unknown. */
export function errnoName(value: number): string {
  return ERRNO_NAMES[value] ?? `E${value}`;
}

/** Number for a symbolic name (aliases such as ENOTSUP included); undefined when unknown. */
export function errnoValue(name: string): number | undefined {
  const alias = ERRNO_ALIASES[name];
  if (alias !== undefined) return alias;
  for (const [value, n] of Object.entries(ERRNO_NAMES)) if (n === name) return Number(value);
  const m = /^E(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * kexec_file_load errnos on which kexec-tools (-a, the default) retries with kexec_load
 * (kexec/kexec.c: ENOSYS, ENOEXEC, EINVAL, ENOTSUP). ENOTSUP and EOPNOTSUPP are both 95.
 */
export const FALLBACK_ERRNOS: ReadonlySet<string> = new Set([
  'ENOSYS',
  'ENOEXEC',
  'EINVAL',
  'ENOTSUP',
  'EOPNOTSUPP',
]);

export type KexecSyscall = 'kexec_file_load' | 'kexec_load' | 'reboot' | 'memfd_create' | 'ioctl';

const SIG_FAILED =
  'signature verification of the kernel failed and is enforced (CONFIG_KEXEC_SIG_FORCE=y, or lockdown / IMA): ' +
  'load a kernel signed with a key in the kernel keyring (.builtin_trusted_keys, .secondary or .platform/MOK)';
const NO_ROOM =
  'the kernel found no room for the segments: for -p the crashkernel= reservation is too small ' +
  '(see /sys/kernel/kexec_crash_size); otherwise the initrd may be too large for free memory';
const ENOSYS_HINT = (config: string): string =>
  `the running kernel was built without ${config}, or the syscall is not available on this architecture; ` +
  'run `kexec-ts doctor`';

const FILE_LOAD_HINTS: Record<string, string> = {
  EPERM:
    'not permitted: needs CAP_SYS_BOOT (run as root); check /proc/sys/kernel/kexec_load_disabled (1 = off ' +
    'until reboot) and /proc/sys/kernel/kexec_load_limit_reboot / _panic (0 = used up); under lockdown ' +
    '(/sys/kernel/security/lockdown) the kernel must carry a valid signature',
  ENOEXEC:
    'the kernel did not recognise the image format (no in-kernel loader accepted it): ' +
    'try `kexec-ts inspect FILE`, or -c to use kexec_load',
  EINVAL:
    'the kernel rejected the image or the flags (arm64 reports a bad image magic as EINVAL; older kernels ' +
    'reject KEXEC_FILE_DEBUG from -d): try `kexec-ts inspect FILE`, drop -d, or -c to use kexec_load',
  EOPNOTSUPP: 'the kernel does not support this image type (e.g. a PE/UKI wrapper): try -c to use kexec_load',
  EKEYREJECTED: SIG_FAILED,
  EBADMSG: SIG_FAILED,
  ENOKEY: SIG_FAILED,
  ENOPKG: SIG_FAILED,
  ELIBBAD: SIG_FAILED,
  EMSGSIZE: SIG_FAILED,
  EBUSY: 'another kexec load or exec is in progress; retry when it has finished',
  ENOMEM: NO_ROOM,
  EADDRNOTAVAIL: NO_ROOM,
  ENOSYS: ENOSYS_HINT('CONFIG_KEXEC_FILE'),
  EBADF: 'a file descriptor passed to the kernel is not open (internal error: please report)',
};

const LOAD_HINTS: Record<string, string> = {
  EPERM:
    'not permitted: needs CAP_SYS_BOOT (run as root); check /proc/sys/kernel/kexec_load_disabled and ' +
    '/proc/sys/kernel/kexec_load_limit_*; under lockdown / Secure Boot (/sys/kernel/security/lockdown) ' +
    'kexec_load is always refused: use kexec_file_load (-s, or the default -a) with a signed kernel',
  EACCES:
    'refused by the IMA appraisal policy (kexec_load cannot be appraised, even for unload): ' +
    'use -s (kexec_file_load) so IMA can check the file',
  EINVAL:
    'the kernel rejected the segment list: bad flags or arch, more than 16 segments, overlap, or bufsz > memsz',
  EADDRNOTAVAIL:
    'a segment is unaligned or outside usable memory; for -p the segments and entry must lie inside the ' +
    'crashkernel= reservation (too small?)',
  EBUSY: 'another kexec load or exec is in progress; retry when it has finished',
  ENOMEM: 'the kernel could not allocate memory for the segments (large initrd or little free memory)',
  EFAULT: 'the kernel could not read a segment buffer (internal error: please report)',
  ENOSYS: ENOSYS_HINT('CONFIG_KEXEC'),
};

const REBOOT_HINTS: Record<string, string> = {
  EINVAL: 'nothing is loaded (check /sys/kernel/kexec_loaded), or the kernel lacks CONFIG_KEXEC_CORE',
  EPERM: 'reboot needs CAP_SYS_BOOT (run as root)',
};

const HINTS: Readonly<Partial<Record<KexecSyscall, Record<string, string>>>> = {
  kexec_file_load: FILE_LOAD_HINTS,
  kexec_load: LOAD_HINTS,
  reboot: REBOOT_HINTS,
};

/** What the errno most likely means for this syscall; undefined when we have nothing useful. */
export function errnoHint(syscall: string, errno: string): string | undefined {
  const table = HINTS[syscall as KexecSyscall];
  if (!table) return undefined;
  return table[errno === 'ENOTSUP' ? 'EOPNOTSUPP' : errno];
}

/** The typed error for a failed call: `kexec_file_load(kernel_fd=3, ...) = ENOSYS (...)` plus hint. */
export function syscallError(
  syscall: string,
  argsText: string,
  errnoValueOrName: number | string,
): SyscallError {
  const value = typeof errnoValueOrName === 'number' ? errnoValueOrName : (errnoValue(errnoValueOrName) ?? 0);
  const name = typeof errnoValueOrName === 'string' ? errnoValueOrName : errnoName(value);
  return new SyscallError(syscall, argsText, name, value, { hint: errnoHint(syscall, name) });
}

/** Argument text for kexec_file_load errors, in the kernel's parameter names. */
export function kexecFileLoadArgs(
  kernelFd: number,
  initrdFd: number,
  cmdlineLen: number,
  flags: number,
): string {
  return `kernel_fd=${kernelFd}, initrd_fd=${initrdFd}, cmdline_len=${cmdlineLen}, flags=0x${flags.toString(16)}`;
}

/** Argument text for kexec_load errors. */
export function kexecLoadArgs(entry: bigint, nrSegments: number, flags: number): string {
  return `entry=0x${entry.toString(16)}, nr_segments=${nrSegments}, flags=0x${flags.toString(16)}`;
}
