// The only door to the kernel. Everything above src/sys talks to a `Sys`; the real one (ffi.ts) goes
// through koffi, the fake one (fake.ts) records calls so host tests never touch the kernel.
// Failed calls throw SyscallError (src/errors.ts) with the errno name and a hint (errno.ts).
// Programs run through it too (exec, execSync, spawn, start: process.ts), so host tests fake them.
import type { ChildProcess } from 'node:child_process';
import type { ExecOptions, ExecResult } from './process.js';

export type { ExecOptions, ExecResult } from './process.js';

export type Arch = 'x86_64' | 'aarch64' | 'riscv64';

/** One kexec_load segment, named after `struct kexec_segment` (include/uapi/linux/kexec.h). */
export interface KexecSegment {
  buf: Uint8Array;
  /** Physical destination address. */
  mem: bigint;
  /** Bytes reserved at `mem` (>= buf.length, page aligned). */
  memsz: bigint;
}

export interface NetInterface {
  name: string;
  up: boolean;
}

/** What lstat(2) (or stat(2)) says of a path. */
export interface FileStat {
  kind: 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'other';
  /** Permission bits (st_mode & 07777). */
  mode: number;
  size: number;
  /** st_dev: the file system holding it. */
  dev: number;
}

export interface Sys {
  readonly arch: Arch;
  /** kexec_file_load(2). initrdFd -1 means none (caller adds KEXEC_FILE_NO_INITRAMFS). */
  kexecFileLoad(kernelFd: number, initrdFd: number, cmdline: string, flags: number): void;
  /** kexec_load(2). */
  kexecLoad(entry: bigint, segments: readonly KexecSegment[], flags: number): void;
  /** reboot(2) with the magic numbers; cmd is e.g. LINUX_REBOOT_CMD_KEXEC. Only returns on failure. */
  reboot(cmd: number): void;
  sync(): void;
  /** memfd_create(2) filled with `data`, seeked back to 0; returns the fd. */
  memfdFromBytes(name: string, data: Uint8Array): number;
  /** open(path, O_RDONLY|O_CLOEXEC); throws FileError when missing. */
  openRead(path: string): number;
  close(fd: number): void;
  /** Whole file as bytes (kernel images, initrds, /proc/config.gz); throws FileError. */
  readFile(path: string): Uint8Array;
  /**
   * Up to `length` bytes at `offset` (pread): the head of a file too large to read whole, such as the
   * ELF headers of /proc/kcore. Shorter at the end of the file; throws FileError.
   */
  readRange(path: string, offset: number, length: number): Uint8Array;
  /** A small text file from /proc or /sys; undefined when it does not exist or cannot be read. */
  readText(path: string): string | undefined;
  /** Directory entries; undefined when the directory does not exist. */
  listDir(path: string): string[] | undefined;
  /** Network interfaces with their IFF_UP state (SIOCGIFFLAGS). */
  interfaces(): NetInterface[];
  /** Clear IFF_UP on one interface (SIOCSIFFLAGS). */
  ifdown(name: string): void;
  /** Effective capabilities include CAP_SYS_BOOT. */
  hasCapSysBoot(): boolean;
  /** Run a program (init system hand-off: systemctl kexec / shutdown -r now). Returns its exit code. */
  spawn(argv: readonly string[]): number;
  /** Run a program with its output captured (ldd, npm, apt-get); a failed program is a result, never thrown. */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** exec, waiting for the program synchronously: short queries (ldd, busybox --list-full). */
  execSync(argv: readonly string[], opts?: ExecOptions): ExecResult;
  /** A long-running program with piped stdio (the lab's QEMU under its console driver). */
  start(argv: readonly string[]): ChildProcess;
  /** lstat(2), or stat(2) with `follow`; undefined when the path does not exist. */
  fileStat(path: string, follow?: boolean): FileStat | undefined;
  /** readlink(2); throws FileError. */
  readLink(path: string): string;
  /** realpath(3): the path with every symlink resolved; throws FileError. */
  realPath(path: string): string;
  /** Whether a program exists on PATH (or is an absolute existing path). */
  which(program: string): string | undefined;
  /**
   * open(path, O_RDONLY), ioctl(fd, request, buf) with a zeroed `size`-byte buffer the kernel fills (a
   * _IOR request such as FBIOGET_FSCREENINFO), close; returns the buffer. FileError when the open
   * fails, SyscallError when the ioctl does.
   */
  ioctlRead(path: string, request: number, size: number): Uint8Array;
}

// kernel/ksysfs.c: what is loaded now.
export const KEXEC_LOADED = '/sys/kernel/kexec_loaded';
export const KEXEC_CRASH_LOADED = '/sys/kernel/kexec_crash_loaded';

// include/uapi/linux/kexec.h
export const KEXEC_ON_CRASH = 0x1;
export const KEXEC_PRESERVE_CONTEXT = 0x2;
export const KEXEC_UPDATE_ELFCOREHDR = 0x4;
export const KEXEC_ARCH_DEFAULT = 0;
export const KEXEC_ARCH_X86_64 = 62 << 16; // EM_X86_64 << 16
export const KEXEC_FILE_UNLOAD = 0x1;
export const KEXEC_FILE_ON_CRASH = 0x2;
export const KEXEC_FILE_NO_INITRAMFS = 0x4;
export const KEXEC_FILE_DEBUG = 0x8;
// include/uapi/linux/reboot.h
export const LINUX_REBOOT_MAGIC1 = 0xfee1dead;
export const LINUX_REBOOT_MAGIC2 = 672274793;
export const LINUX_REBOOT_CMD_KEXEC = 0x45584543;
export const LINUX_REBOOT_CMD_RESTART = 0x01234567;
export const LINUX_REBOOT_CMD_POWER_OFF = 0x4321fedc;
