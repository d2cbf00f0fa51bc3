// mmap(2)/munmap(2) of a read-only window of a file, for /proc/vmcore: read() there makes the kernel
// map and unmap every old-memory page it copies (fs/proc/vmcore.c read_from_oldmem), while mmap()
// remaps the whole window once (mmap_vmcore, remap_oldmem_pfn_range), which is why makedumpfile reads
// /proc/vmcore through 4 MiB mappings. The mapped bytes never leave this module as a JS object: callers
// copy out of the window, so nothing can touch the memory after munmap.
import { syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';

// include/uapi/asm-generic/mman-common.h
export const PROT_READ = 0x1;
// include/uapi/linux/mman.h
export const MAP_PRIVATE = 0x02;
/** (void *)-1 */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

type Pointer = unknown;
interface MmapFns {
  mmap: (addr: null, length: number, prot: number, flags: number, fd: number, offset: number) => Pointer;
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
  /** Copies file bytes [fileOffset, fileOffset + n), which must lie in the window, into `dst` at `dstOff`. */
  copy(fileOffset: number, dst: Uint8Array, dstOff: number, n: number): void;
  unmap(): void;
}

/**
 * mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, offset). `offset` must be a multiple of the page size.
 * Throws SyscallError (EINVAL when the file or kernel does not support it, ENODEV for a file without mmap).
 */
export function mapFileWindow(fd: number, offset: number, length: number): FileWindow {
  const f = mmapFns();
  const args = () => `NULL, ${length}, PROT_READ, MAP_PRIVATE, ${fd}, 0x${offset.toString(16)}`;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0)
    throw syscallError('mmap', args(), 'EINVAL');
  const ptr = f.mmap(null, length, PROT_READ, MAP_PRIVATE, fd, offset);
  if (ptr === null || f.address(ptr) === MAP_FAILED) throw syscallError('mmap', args(), lastErrno());
  let bytes: Uint8Array | undefined = new Uint8Array(f.view(ptr, length));
  return {
    offset,
    length,
    copy(fileOffset, dst, dstOff, n) {
      const at = fileOffset - offset;
      if (!bytes) throw new Error('mapFileWindow: copy after unmap');
      if (at < 0 || n < 0 || at + n > length) throw new RangeError('mapFileWindow: range outside the window');
      dst.set(bytes.subarray(at, at + n), dstOff);
    },
    unmap() {
      if (!bytes) return;
      bytes = undefined;
      if (f.munmap(ptr, length) !== 0)
        throw syscallError('munmap', `0x${f.address(ptr).toString(16)}, ${length}`, lastErrno());
    },
  };
}
