// A Sys that never touches the kernel: files come from a map, calls are recorded in order, and the
// kexec state files in /sys/kernel follow successful loads and unloads like the kernel's do.
import type { ChildProcess } from 'node:child_process';
import { FileError, StateError } from '../errors.js';
import { kexecFileLoadArgs, kexecLoadArgs, syscallError } from './errno.js';
import type { ExecOptions, ExecResult } from './process.js';
import {
  type Arch,
  type FileStat,
  KEXEC_CRASH_LOADED,
  KEXEC_FILE_NO_INITRAMFS,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_UNLOAD,
  KEXEC_LOADED,
  KEXEC_ON_CRASH,
  type KexecSegment,
  LINUX_REBOOT_CMD_KEXEC,
  type NetInterface,
  type Sys,
} from './types.js';

export type FakeMethod = Exclude<keyof Sys, 'arch'>;
/** An errno name to fail with, or a function deciding per call (undefined = succeed). */
export type FakeFailure = string | ((args: readonly unknown[]) => string | undefined);

export interface FakeSysOptions {
  arch?: Arch;
  /** path -> contents; strings are stored as UTF-8. */
  files?: Record<string, Uint8Array | string>;
  /** Directories that exist even with no files under them (e.g. /sys/firmware/efi). */
  dirs?: string[];
  interfaces?: NetInterface[];
  /** Default true. Without it kexec loads and reboot fail with EPERM, as in the kernel. */
  capSysBoot?: boolean;
  /** Default true: /sys/kernel/kexec_loaded and kexec_crash_loaded exist (starting at 0). */
  kexecSysfs?: boolean;
  failures?: Partial<Record<FakeMethod, FakeFailure>>;
  /** program -> resolved path for which(). */
  which?: Record<string, string>;
  /** Exit code for spawn(), or a function of argv. Default 0. */
  spawn?: number | ((argv: readonly string[]) => number);
  /**
   * What exec()/execSync() give a program: the result's fields, or undefined for "not installed" (the
   * default for every program: status 127, ENOENT).
   */
  exec?: (argv: readonly string[], opts: ExecOptions) => Partial<ExecResult> | undefined;
  /** path -> target: symbolic links for fileStat, readLink and realPath. */
  symlinks?: Record<string, string>;
  /** path -> permission bits reported by fileStat (default 0o644 for files, 0o755 for directories). */
  modes?: Record<string, number>;
  /** Devices for ioctlRead: path -> request -> the bytes the kernel writes back, or an errno name. */
  ioctls?: Record<string, Record<number, Uint8Array | string>>;
}

export interface FakeCall {
  name: FakeMethod;
  args: unknown[];
}

/** What the fake kernel holds after a successful load. */
export interface FakeImage {
  via: 'kexec_file_load' | 'kexec_load';
  kernel?: Uint8Array;
  initrd?: Uint8Array;
  cmdline?: string;
  entry?: bigint;
  segments?: KexecSegment[];
  flags: number;
}

export { KEXEC_CRASH_LOADED, KEXEC_LOADED } from './types.js';

export class FakeSys implements Sys {
  readonly arch: Arch;
  readonly calls: FakeCall[] = [];
  readonly files = new Map<string, Uint8Array>();
  readonly dirs: Set<string>;
  /** Images the fake kernel holds: `normal` (-l) and `crash` (-p). */
  readonly images: { normal?: FakeImage; crash?: FakeImage } = {};
  interfaceList: NetInterface[];
  private readonly fds = new Map<number, Uint8Array>();
  private nextFd = 100;

  constructor(private readonly options: FakeSysOptions = {}) {
    this.arch = options.arch ?? 'x86_64';
    this.dirs = new Set(options.dirs ?? []);
    this.interfaceList = (options.interfaces ?? [{ name: 'lo', up: true }]).map((i) => ({ ...i }));
    if (options.kexecSysfs ?? true) {
      this.setText(KEXEC_LOADED, '0\n');
      this.setText(KEXEC_CRASH_LOADED, '0\n');
    }
    for (const [path, data] of Object.entries(options.files ?? {})) this.setFile(path, data);
  }

  setFile(path: string, data: Uint8Array | string): void {
    this.files.set(path, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  setText(path: string, text: string): void {
    this.setFile(path, text);
  }

  /** Recorded calls of one method, in order. */
  callsOf(name: FakeMethod): FakeCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  /** The bytes behind a fake fd (memfd or openRead), if still open. */
  fdData(fd: number): Uint8Array | undefined {
    return this.fds.get(fd);
  }

  kexecFileLoad(kernelFd: number, initrdFd: number, cmdline: string, flags: number): void {
    this.record('kexecFileLoad', [kernelFd, initrdFd, cmdline, flags]);
    const unload = (flags & KEXEC_FILE_UNLOAD) !== 0;
    const args = kexecFileLoadArgs(kernelFd, initrdFd, unload ? 0 : Buffer.byteLength(cmdline) + 1, flags);
    this.maybeFail('kexecFileLoad', [kernelFd, initrdFd, cmdline, flags], 'kexec_file_load', args);
    this.checkKexecAllowed('kexec_file_load', args);
    const slot = flags & KEXEC_FILE_ON_CRASH ? 'crash' : 'normal';
    if (unload) {
      this.setImage(slot, undefined);
      return;
    }
    const kernel = this.fds.get(kernelFd);
    const initrd = flags & KEXEC_FILE_NO_INITRAMFS ? undefined : this.fds.get(initrdFd);
    if (!kernel || (!(flags & KEXEC_FILE_NO_INITRAMFS) && !initrd))
      throw syscallError('kexec_file_load', args, 'EBADF');
    this.setImage(slot, { via: 'kexec_file_load', kernel, ...(initrd ? { initrd } : {}), cmdline, flags });
  }

  kexecLoad(entry: bigint, segments: readonly KexecSegment[], flags: number): void {
    this.record('kexecLoad', [entry, segments, flags]);
    const args = kexecLoadArgs(entry, segments.length, flags);
    this.maybeFail('kexecLoad', [entry, segments, flags], 'kexec_load', args);
    this.checkKexecAllowed('kexec_load', args);
    const slot = flags & KEXEC_ON_CRASH ? 'crash' : 'normal';
    this.setImage(
      slot,
      segments.length === 0 ? undefined : { via: 'kexec_load', entry, segments: [...segments], flags },
    );
  }

  /** Records and returns: a test asserts `callsOf('reboot')`. Fails with EINVAL when nothing is loaded. */
  reboot(cmd: number): void {
    this.record('reboot', [cmd]);
    const args = `cmd=0x${cmd.toString(16)}`;
    this.maybeFail('reboot', [cmd], 'reboot', args);
    if (!(this.options.capSysBoot ?? true)) throw syscallError('reboot', args, 'EPERM');
    if (cmd === LINUX_REBOOT_CMD_KEXEC && !this.images.normal) throw syscallError('reboot', args, 'EINVAL');
  }

  sync(): void {
    this.record('sync', []);
  }

  memfdFromBytes(name: string, data: Uint8Array): number {
    this.record('memfdFromBytes', [name, data.length]);
    this.maybeFail(
      'memfdFromBytes',
      [name, data.length],
      'memfd_create',
      `${JSON.stringify(name)}, MFD_CLOEXEC`,
    );
    return this.newFd(data.slice());
  }

  openRead(path: string): number {
    this.record('openRead', [path]);
    const errno = this.failureFor('openRead', [path]);
    if (errno) throw new FileError(path, errno);
    const data = this.files.get(path);
    if (!data) throw new FileError(path, this.isDir(path) ? 'EISDIR' : 'ENOENT');
    return this.newFd(data);
  }

  close(fd: number): void {
    this.record('close', [fd]);
    this.fds.delete(fd);
  }

  readFile(path: string): Uint8Array {
    this.record('readFile', [path]);
    const errno = this.failureFor('readFile', [path]);
    if (errno) throw new FileError(path, errno);
    const data = this.files.get(path);
    if (!data) throw new FileError(path, this.isDir(path) ? 'EISDIR' : 'ENOENT');
    return data;
  }

  readRange(path: string, offset: number, length: number): Uint8Array {
    this.record('readRange', [path, offset, length]);
    const errno = this.failureFor('readRange', [path, offset, length]);
    if (errno) throw new FileError(path, errno);
    const data = this.files.get(path);
    if (!data) throw new FileError(path, this.isDir(path) ? 'EISDIR' : 'ENOENT');
    return data.slice(offset, offset + length);
  }

  readText(path: string): string | undefined {
    this.record('readText', [path]);
    if (this.failureFor('readText', [path])) return undefined;
    const data = this.files.get(path);
    return data ? Buffer.from(data).toString('utf8') : undefined;
  }

  listDir(path: string): string[] | undefined {
    this.record('listDir', [path]);
    if (this.failureFor('listDir', [path]) || !this.isDir(path)) return undefined;
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p.startsWith(prefix) && p.length > prefix.length) names.add(p.slice(prefix.length).split('/')[0]!);
    }
    return [...names].sort();
  }

  interfaces(): NetInterface[] {
    this.record('interfaces', []);
    this.maybeFail('interfaces', [], 'ioctl', 'SIOCGIFFLAGS');
    return this.interfaceList.map((i) => ({ ...i }));
  }

  ifdown(name: string): void {
    this.record('ifdown', [name]);
    const args = `SIOCSIFFLAGS, {ifr_name=${JSON.stringify(name)}}`;
    this.maybeFail('ifdown', [name], 'ioctl', args);
    const iface = this.interfaceList.find((i) => i.name === name);
    if (!iface) throw syscallError('ioctl', args, 'ENODEV');
    iface.up = false;
  }

  hasCapSysBoot(): boolean {
    this.record('hasCapSysBoot', []);
    return this.options.capSysBoot ?? true;
  }

  spawn(argv: readonly string[]): number {
    this.record('spawn', [[...argv]]);
    const s = this.options.spawn ?? 0;
    return typeof s === 'number' ? s : s(argv);
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.record('exec', [[...argv], opts]);
    return Promise.resolve(this.execResult(argv, opts));
  }

  execSync(argv: readonly string[], opts: ExecOptions = {}): ExecResult {
    this.record('execSync', [[...argv], opts]);
    return this.execResult(argv, opts);
  }

  start(argv: readonly string[]): ChildProcess {
    this.record('start', [[...argv]]);
    throw new StateError(`FakeSys cannot start ${argv[0]}`, { hint: 'a lab test runs real programs' });
  }

  fileStat(path: string, follow = false): FileStat | undefined {
    this.record('fileStat', [path, follow]);
    const p = follow ? this.resolve(path) : path;
    if (p === undefined) return undefined;
    const mode = this.options.modes?.[p];
    const target = this.options.symlinks?.[p];
    if (target !== undefined) return { kind: 'symlink', mode: 0o777, size: target.length, dev: 1 };
    const data = this.files.get(p);
    if (data) return { kind: 'file', mode: mode ?? 0o644, size: data.byteLength, dev: 1 };
    return this.isDir(p) || p === '/' ? { kind: 'dir', mode: mode ?? 0o755, size: 0, dev: 1 } : undefined;
  }

  readLink(path: string): string {
    this.record('readLink', [path]);
    const target = this.options.symlinks?.[path];
    if (target === undefined) throw new FileError(path, this.fileStat(path) ? 'EINVAL' : 'ENOENT');
    return target;
  }

  realPath(path: string): string {
    this.record('realPath', [path]);
    const p = this.resolve(path);
    if (p === undefined) throw new FileError(path, 'ENOENT');
    return p;
  }

  which(program: string): string | undefined {
    this.record('which', [program]);
    return this.options.which?.[program];
  }

  ioctlRead(path: string, request: number, size: number): Uint8Array {
    this.record('ioctlRead', [path, request, size]);
    const errno = this.failureFor('ioctlRead', [path, request, size]);
    const dev = this.options.ioctls?.[path];
    if (!dev) throw new FileError(path, errno ?? 'ENOENT');
    const args = `fd, 0x${request.toString(16)}, ${size}`;
    const r = dev[request] ?? 'ENOTTY'; // the kernel's answer to a request the driver does not know
    if (errno || typeof r === 'string') throw syscallError('ioctl', args, errno ?? (r as string));
    const out = new Uint8Array(size);
    out.set(r.subarray(0, size));
    return out;
  }

  private record(name: FakeMethod, args: unknown[]): void {
    this.calls.push({ name, args });
  }

  private failureFor(name: FakeMethod, args: readonly unknown[]): string | undefined {
    const f = this.options.failures?.[name];
    return typeof f === 'function' ? f(args) : f;
  }

  private maybeFail(name: FakeMethod, args: readonly unknown[], syscall: string, argsText: string): void {
    const errno = this.failureFor(name, args);
    if (errno) throw syscallError(syscall, argsText, errno);
  }

  // The kernel's own gates, in its order (kernel/kexec_core.c kexec_load_permitted()).
  private checkKexecAllowed(syscall: string, args: string): void {
    const disabled = this.readRaw('/proc/sys/kernel/kexec_load_disabled');
    if (!(this.options.capSysBoot ?? true) || disabled?.trim() === '1')
      throw syscallError(syscall, args, 'EPERM');
  }

  private setImage(slot: 'normal' | 'crash', image: FakeImage | undefined): void {
    if (image) this.images[slot] = image;
    else delete this.images[slot];
    const path = slot === 'crash' ? KEXEC_CRASH_LOADED : KEXEC_LOADED;
    if (this.files.has(path)) this.setText(path, image ? '1\n' : '0\n');
  }

  private readRaw(path: string): string | undefined {
    const data = this.files.get(path);
    return data ? Buffer.from(data).toString('utf8') : undefined;
  }

  private execResult(argv: readonly string[], opts: ExecOptions): ExecResult {
    const r = this.options.exec?.(argv, opts);
    if (!r) return { status: 127, stdout: '', stderr: '', error: 'ENOENT' };
    return { status: 0, stdout: '', stderr: '', ...r };
  }

  /** The path with symlinks resolved component by component (as realpath(3)); undefined if missing. */
  private resolve(path: string): string | undefined {
    const links = this.options.symlinks ?? {};
    const todo = path.split('/').filter(Boolean);
    let at = '';
    for (let hops = 0; todo.length > 0; ) {
      const name = todo.shift()!;
      if (name === '.') continue;
      if (name === '..') {
        at = at.slice(0, at.lastIndexOf('/'));
        continue;
      }
      const next = `${at}/${name}`;
      const target = links[next];
      if (target === undefined) {
        at = next;
        continue;
      }
      if (++hops > 40) throw new FileError(path, 'ELOOP');
      todo.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) at = '';
    }
    const p = at || '/';
    return this.files.has(p) || this.isDir(p) || p === '/' ? p : undefined;
  }

  private isDir(path: string): boolean {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    return this.dirs.has(path) || [...this.files.keys(), ...this.dirs].some((p) => p.startsWith(prefix));
  }

  private newFd(data: Uint8Array): number {
    const fd = this.nextFd++;
    this.fds.set(fd, data);
    return fd;
  }
}
