// mmap(2)/munmap(2) of a read-only window of a file, for /proc/vmcore: read() there makes the kernel
// map and unmap every old-memory page it copies (fs/proc/vmcore.c read_from_oldmem), while mmap()
// remaps the whole window once (mmap_vmcore, remap_oldmem_pfn_range), which is why makedumpfile reads
// /proc/vmcore through 4 MiB mappings. The mapped bytes leave this module only as a view lent to a
// callback (`lend`, so a dump can be written without copying every page): the view must not be kept
// past the callback, because after munmap touching it faults the process.
import { syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';

// include/uapi/asm-generic/mman-common.h
export const PROT_READ = 0x1;
// include/uapi/linux/mman.h
export const MAP_PRIVATE = 0x02;
// include/uapi/asm-generic/mman-common.h (x86, arm64 and riscv use the generic value)
export const MAP_FIXED = 0x10;
/** (void *)-1 */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

type Pointer = unknown;
interface MmapFns {
  mmap: (
    addr: Pointer | null,
    length: number,
    prot: number,
    flags: number,
    fd: number,
    offset: number,
  ) => Pointer;
  munmap: (addr: Pointer, length: number) => number;
  address: (p: Pointer) => bigint;
  view: (p: Pointer, length: number) => ArrayBuffer;
}

let fns: MmapFns | undefined;
function mmapFns(): MmapFns {
  if (fns) return fns;
  const { koffi } = libc();
  const lib = koffi.load('libc.so.6');
  fns = {
    // off_t is 64-bit on every architecture kexec-ts supports (x86_64, aarch64, riscv64).
    mmap: lib.func('void *mmap(void *, size_t, int, int, int, int64_t)'),
    munmap: lib.func('int munmap(void *, size_t)'),
    address: (p) => koffi.address(p) as bigint,
    view: (p, n) => koffi.view(p as never, n) as ArrayBuffer,
  };
  return fns;
}

/** A mapped window [offset, offset + length) of a file. */
export interface FileWindow {
  readonly offset: number;
  readonly length: number;
  /** Length of the first mapping: the most remap() can map. */
  readonly capacity: number;
  /** Copies file bytes [fileOffset, fileOffset + n), which must lie in the window, into `dst` at `dstOff`. */
  copy(fileOffset: number, dst: Uint8Array, dstOff: number, n: number): void;
  /** Calls `fn` with a view of file bytes [fileOffset, fileOffset + n) in the window; valid only during `fn`. */
  lend<T>(fileOffset: number, n: number, fn: (bytes: Uint8Array) => T): T;
  /**
   * Maps [offset, offset + length) of the same file over this window's addresses (MAP_FIXED replaces
   * the old pages in one call): no munmap, and no new ArrayBuffer per window, whose external memory
   * would make V8 collect garbage. `length` may not exceed the first mapping's. On failure the window
   * is unmapped and the SyscallError thrown.
   */
  remap(offset: number, length: number): void;
  unmap(): void;
}

/**
 * mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, offset). `offset` must be a multiple of the page size.
 * Throws SyscallError (EINVAL when the file or kernel does not support it, ENODEV for a file without mmap).
 */
export function mapFileWindow(fd: number, offset: number, length: number): FileWindow {
  const f = mmapFns();
  const args = (at: string, off: number, len: number, flags: string) =>
    `${at}, ${len}, PROT_READ, ${flags}, ${fd}, 0x${off.toString(16)}`;
  const valid = (off: number, len: number) =>
    Number.isSafeInteger(off) && off >= 0 && Number.isSafeInteger(len) && len > 0;
  if (!valid(offset, length))
    throw syscallError('mmap', args('NULL', offset, length, 'MAP_PRIVATE'), 'EINVAL');
  const ptr = f.mmap(null, length, PROT_READ, MAP_PRIVATE, fd, offset);
  if (ptr === null || f.address(ptr) === MAP_FAILED)
    throw syscallError('mmap', args('NULL', offset, length, 'MAP_PRIVATE'), lastErrno());
  const capacity = length;
  let bytes: Uint8Array | undefined = new Uint8Array(f.view(ptr, capacity));
  const view = (what: string, fileOffset: number, n: number): Uint8Array => {
    const at = fileOffset - win.offset;
    if (!bytes) throw new Error(`mapFileWindow: ${what} after unmap`);
    if (at < 0 || n < 0 || at + n > win.length)
      throw new RangeError('mapFileWindow: range outside the window');
    return bytes.subarray(at, at + n);
  };
  const win = {
    offset,
    length,
    capacity,
    copy(fileOffset: number, dst: Uint8Array, dstOff: number, n: number) {
      dst.set(view('copy', fileOffset, n), dstOff);
    },
    lend<T>(fileOffset: number, n: number, fn: (bytes: Uint8Array) => T): T {
      return fn(view('lend', fileOffset, n));
    },
    remap(off: number, len: number) {
      const call = () => args(`0x${f.address(ptr).toString(16)}`, off, len, 'MAP_PRIVATE|MAP_FIXED');
      if (!bytes) throw new Error('mapFileWindow: remap after unmap');
      if (!valid(off, len) || len > capacity) throw syscallError('mmap', call(), 'EINVAL');
      const got = f.mmap(ptr, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, off);
      if (got === null || f.address(got) !== f.address(ptr)) {
        const errno = lastErrno();
        win.unmap(); // a failed MAP_FIXED may have removed the old pages already
        throw syscallError('mmap', call(), errno);
      }
      // A shorter last window leaves the old tail mapped; `length` keeps every access inside the new part.
      win.offset = off;
      win.length = len;
    },
    unmap() {
      if (!bytes) return;
      bytes = undefined;
      if (f.munmap(ptr, capacity) !== 0)
        throw syscallError('munmap', `0x${f.address(ptr).toString(16)}, ${capacity}`, lastErrno());
    },
  };
  return win;
}
