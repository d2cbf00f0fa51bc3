// The real kernel door: kexec syscalls, reboot, memfd and interface flags through koffi (libc.ts);
// files through node:fs. Every failed syscall throws SyscallError with errno name and hint.
import type { ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
  writeSync,
} from 'node:fs';
import { endianness } from 'node:os';
import { delimiter, join } from 'node:path';
import { FileError, StateError } from '../errors.js';
import { kexecFileLoadArgs, kexecLoadArgs, syscallError } from './errno.js';
import { CMemory, inPlaceAddress, lastErrno, libc, word } from './libc.js';
import {
  AF_NETLINK,
  IFF_UP,
  ifreq,
  ifreqFlags,
  NETLINK_ROUTE,
  SIOCGIFFLAGS,
  SIOCSIFFLAGS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  setIfreqFlags,
} from './net.js';
import {
  type ExecOptions,
  type ExecResult,
  execAsync,
  execSync,
  spawnInherit,
  startPiped,
} from './process.js';
import { archFromNode, SYSCALL_NUMBERS, type SyscallNumbers } from './syscall-numbers.js';
import {
  type Arch,
  type FileStat,
  KEXEC_FILE_UNLOAD,
  type KexecSegment,
  type NetInterface,
  type Sys,
} from './types.js';

// include/uapi/linux/memfd.h
export const MFD_CLOEXEC = 0x1;
// include/uapi/linux/capability.h
export const CAP_SYS_BOOT = 22;
/** sizeof(struct kexec_segment) on 64-bit: four 8-byte words (include/uapi/linux/kexec.h). */
export const KEXEC_SEGMENT_SIZE = 32;

/**
 * Buffers at least this big are passed by address. V8 keeps typed arrays above 64 bytes in off-heap
 * backing stores that never move while referenced; smaller ones may live on the moving heap.
 */
export const IN_PLACE_MIN = 1 << 16;

/** Encodes `struct kexec_segment[]` given the C addresses of each segment's buffer (native endian). */
export function encodeSegmentTable(segments: readonly KexecSegment[], bufAddrs: readonly bigint[]): Buffer {
  const table = Buffer.alloc(segments.length * KEXEC_SEGMENT_SIZE);
  const le = endianness() === 'LE';
  segments.forEach((s, i) => {
    const words = [bufAddrs[i] ?? 0n, BigInt(s.buf.length), s.mem, s.memsz];
    words.forEach((w, j) => {
      const at = i * KEXEC_SEGMENT_SIZE + j * 8;
      if (le) table.writeBigUInt64LE(BigInt.asUintN(64, w), at);
      else table.writeBigUInt64BE(BigInt.asUintN(64, w), at);
    });
  });
  return table;
}

/** Whether the `CapEff:` line of /proc/PID/status has capability `bit` set. */
export function hasCapability(statusText: string, bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return m ? ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n : false;
}

function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EIO';
}

function fileKind(st: Stats): FileStat['kind'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  return st.isBlockDevice() ? 'blockdev' : 'other';
}

function failed(result: number | bigint): boolean {
  return typeof result === 'bigint' ? result < 0n : result < 0;
}

export class RealSys implements Sys {
  readonly arch: Arch;
  private readonly nr: SyscallNumbers;

  constructor(arch: Arch | undefined = archFromNode()) {
    if (!arch) throw new StateError(`kexec-ts supports x86_64, aarch64 and riscv64, not ${process.arch}`);
    this.arch = arch;
    this.nr = SYSCALL_NUMBERS[arch];
  }

  kexecFileLoad(kernelFd: number, initrdFd: number, cmdline: string, flags: number): void {
    // Unload passes no command line at all (kexec-tools: cmdline_len 0, NULL); a load always passes a
    // NUL-terminated string, "\0" when empty (kernel/kexec_file.c rejects a missing terminator).
    const bytes = flags & KEXEC_FILE_UNLOAD ? new Uint8Array(0) : Buffer.from(`${cmdline}\0`, 'utf8');
    const mem = new CMemory();
    try {
      const r = libc().syscall(
        this.nr.kexec_file_load,
        kernelFd,
        initrdFd,
        bytes.length,
        mem.put(bytes),
        flags,
      );
      if (failed(r))
        throw syscallError(
          'kexec_file_load',
          kexecFileLoadArgs(kernelFd, initrdFd, bytes.length, flags),
          lastErrno(),
        );
    } finally {
      mem.free();
    }
  }

  kexecLoad(entry: bigint, segments: readonly KexecSegment[], flags: number): void {
    const mem = new CMemory();
    try {
      // Large buffers (kernel, initrd) go to the kernel in place: a copy into C memory touched every
      // page of a second 500 MB buffer, seconds on a real machine and far more under TCG.
      const addrs = segments.map((s) =>
        s.buf.length >= IN_PLACE_MIN ? inPlaceAddress(s.buf) : mem.put(s.buf),
      );
      const table = mem.put(encodeSegmentTable(segments, addrs));
      const r = libc().syscall(this.nr.kexec_load, word(entry), segments.length, word(table), flags, 0);
      if (failed(r))
        throw syscallError('kexec_load', kexecLoadArgs(entry, segments.length, flags), lastErrno());
    } finally {
      mem.free();
    }
  }

  reboot(cmd: number): void {
    const r = libc().reboot(cmd);
    if (r < 0) throw syscallError('reboot', `cmd=0x${cmd.toString(16)}`, lastErrno());
  }

  sync(): void {
    libc().sync();
  }

  memfdFromBytes(name: string, data: Uint8Array): number {
    const mem = new CMemory();
    let fd: number;
    try {
      const r = libc().syscall(this.nr.memfd_create, mem.put(Buffer.from(`${name}\0`)), MFD_CLOEXEC, 0, 0, 0);
      if (failed(r)) throw syscallError('memfd_create', `${JSON.stringify(name)}, MFD_CLOEXEC`, lastErrno());
      fd = Number(r);
    } finally {
      mem.free();
    }
    try {
      // Positional writes (pwrite) leave the file offset at 0, where kernel_read_file starts anyway.
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, done);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }

  openRead(path: string): number {
    try {
      return openSync(path, constants.O_RDONLY); // libuv adds O_CLOEXEC
    } catch (err) {
      throw new FileError(path, errnoCode(err), { cause: err });
    }
  }

  close(fd: number): void {
    closeSync(fd);
  }

  readFile(path: string): Uint8Array {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new FileError(path, errnoCode(err), { cause: err });
    }
  }

  readRange(path: string, offset: number, length: number): Uint8Array {
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDONLY);
      const out = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return new Uint8Array(out.buffer, out.byteOffset, done);
    } catch (err) {
      throw new FileError(path, errnoCode(err), { cause: err });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  readText(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  listDir(path: string): string[] | undefined {
    try {
      return readdirSync(path).sort();
    } catch {
      return undefined;
    }
  }

  interfaces(): NetInterface[] {
    const names = this.listDir('/sys/class/net') ?? [];
    return this.withSocket((sock) => {
      const out: NetInterface[] = [];
      for (const name of names) {
        const ifr = ifreq(name);
        if (libc().ioctl(sock, SIOCGIFFLAGS, ifr) < 0) continue; // vanished since the listing
        out.push({ name, up: (ifreqFlags(ifr) & IFF_UP) !== 0 });
      }
      return out;
    });
  }

  ifdown(name: string): void {
    this.withSocket((sock) => {
      const ifr = ifreq(name);
      const args = `fd=${sock}, SIOC%sIFFLAGS, {ifr_name=${JSON.stringify(name)}}`;
      if (libc().ioctl(sock, SIOCGIFFLAGS, ifr) < 0)
        throw syscallError('ioctl', args.replace('%s', 'G'), lastErrno());
      const flags = ifreqFlags(ifr);
      if (!(flags & IFF_UP)) return;
      setIfreqFlags(ifr, flags & ~IFF_UP);
      if (libc().ioctl(sock, SIOCSIFFLAGS, ifr) < 0)
        throw syscallError('ioctl', args.replace('%s', 'S'), lastErrno());
    });
  }

  hasCapSysBoot(): boolean {
    return hasCapability(this.readText('/proc/self/status') ?? '', CAP_SYS_BOOT);
  }

  spawn(argv: readonly string[]): number {
    return spawnInherit(argv);
  }

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execAsync(argv, opts);
  }

  execSync(argv: readonly string[], opts?: ExecOptions): ExecResult {
    return execSync(argv, opts);
  }

  start(argv: readonly string[]): ChildProcess {
    return startPiped(argv);
  }

  fileStat(path: string, follow = false): FileStat | undefined {
    let st: Stats;
    try {
      st = follow ? statSync(path) : lstatSync(path);
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err))) return undefined;
      throw new FileError(path, errnoCode(err), { cause: err });
    }
    return { kind: fileKind(st), mode: st.mode & 0o7777, size: st.size, dev: st.dev };
  }

  readLink(path: string): string {
    try {
      return readlinkSync(path);
    } catch (err) {
      throw new FileError(path, errnoCode(err), { cause: err });
    }
  }

  realPath(path: string): string {
    try {
      return realpathSync(path);
    } catch (err) {
      throw new FileError(path, errnoCode(err), { cause: err });
    }
  }

  which(program: string): string | undefined {
    const candidates = program.includes('/')
      ? [program]
      : (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin')
          .split(delimiter)
          .map((d) => join(d || '.', program));
    return candidates.find((p) => {
      try {
        accessSync(p, constants.X_OK);
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
  }

  ioctlRead(path: string, request: number, size: number): Uint8Array {
    const fd = this.openRead(path);
    try {
      const buf = new Uint8Array(size);
      if (libc().ioctl(fd, request, buf) < 0)
        throw syscallError('ioctl', `fd=${fd} (${path}), 0x${request.toString(16)}, ${size}`, lastErrno());
      return buf;
    } finally {
      closeSync(fd);
    }
  }

  // Any socket serves the SIOC*IFFLAGS ioctls; kexec-tools moved from AF_INET to AF_NETLINK so that
  // hosts without IPv4 work too.
  private withSocket<T>(fn: (sock: number) => T): T {
    const sock = libc().socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sock < 0)
      throw syscallError('socket', 'AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_ROUTE', lastErrno());
    try {
      return fn(sock);
    } finally {
      libc().close(sock);
    }
  }
}
