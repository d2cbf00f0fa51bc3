// Lazy koffi bindings to glibc. Nothing here runs until the first real call, so importing src/sys
// (e.g. for FakeSys in tests, or `kexec-ts inspect`) never loads the native module.
// Only src/sys may touch koffi.
import { type Koffi, loadKoffi } from './koffi.js';

/** Raw syscall(2) with every argument as a machine word; pointers are passed as addresses. */
type Syscall6 = (nr: number, a: Word, b: Word, c: Word, d: Word, e: Word) => number | bigint;
export type Word = number | bigint;

export interface Libc {
  koffi: Koffi;
  syscall: Syscall6;
  reboot: (cmd: number) => number;
  sync: () => void;
  socket: (domain: number, type: number, protocol: number) => number;
  ioctl: (fd: number, request: number, arg: Uint8Array) => number;
  close: (fd: number) => number;
}

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  cached = {
    koffi,
    syscall: lib.func('long syscall(long, long, long, long, long, long)'),
    // glibc's reboot(howto) supplies LINUX_REBOOT_MAGIC1/2 itself (sysdeps/unix/sysv/linux/reboot.c).
    reboot: lib.func('int reboot(int)'),
    sync: lib.func('void sync(void)'),
    socket: lib.func('int socket(int, int, int)'),
    // The third argument of the SIOC*IFFLAGS requests is a struct ifreq the kernel reads and writes.
    ioctl: lib.func('int ioctl(int, unsigned long, _Inout_ uint8_t *)'),
    close: lib.func('int close(int)'),
  };
  return cached;
}

/** errno left by the last call through koffi. */
export function lastErrno(): number {
  return libc().koffi.errno();
}

/**
 * C memory holding copies of JS buffers, for syscalls that take pointers (to pointers). Node gives no
 * stable address for a Buffer, so we copy into koffi.alloc'd memory and free it all afterwards.
 */
export class CMemory {
  private readonly blocks: unknown[] = [];

  /** Copies `bytes` into C memory and returns its address (0n for an empty buffer). */
  put(bytes: Uint8Array): bigint {
    if (bytes.length === 0) return 0n;
    const { koffi } = libc();
    const ptr = koffi.alloc('uint8_t', bytes.length);
    this.blocks.push(ptr);
    new Uint8Array(koffi.view(ptr, bytes.length)).set(bytes);
    return koffi.address(ptr);
  }

  free(): void {
    const { koffi } = libc();
    for (const ptr of this.blocks.splice(0)) koffi.free(ptr);
  }
}

/**
 * The address of a typed array's bytes, for a syscall that reads them during the call (koffi.address
 * accounts for byteOffset). Only for buffers above V8's on-heap limit: see IN_PLACE_MIN in ffi.ts.
 */
export function inPlaceAddress(bytes: Uint8Array): bigint {
  return libc().koffi.address(bytes);
}

/** A signed machine word for koffi's `long` parameters (addresses above 2^63 wrap). */
export function word(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}
