// A RandomAccessReader over a file: /proc/vmcore is several GiB, so only the ranges asked for are read.
// Two ways: positioned read() (readSync at a position), or mmap() windows (src/sys/mmap.ts), 4 MiB
// like makedumpfile's MAP_REGION, mapped in turn as reads move through the file. For /proc/vmcore mmap
// is the default: read() there maps and unmaps each old-memory page in the kernel (docs/kdump.md has
// the numbers measured in a capture kernel). When mmap fails (a kernel without vmcore mmap, a file
// system without it) the reader falls back to read() for good and says why in `fallback`.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { FileError } from '../errors.js';
import { type FileWindow, mapFileWindow } from '../sys/mmap.js';
import { checkRange, type RandomAccessReader } from './reader.js';

/** Largest single read we allow (the text ring and descriptor arrays are read whole). */
export const MAX_READ = 1 << 30;
/** mmap window for /proc/vmcore: makedumpfile's MAP_REGION (4 MiB), a multiple of every page size. */
export const MMAP_WINDOW = 4 << 20;
/**
 * mmap window for other files. The page cache pages of a mapped regular file count in the process's
 * RSS while mapped (/proc/vmcore's old-memory pages are PFN mappings and do not), and a larger window
 * measured no faster on the lab's 1.3 GB dump.
 */
export const FILE_WINDOW = 1 << 20;

export type ReadMethod = 'read' | 'mmap';

export interface FileReader extends RandomAccessReader {
  /** Fills `into` with the bytes at `offset` (no allocation); throws TruncatedError past the end. */
  readInto(into: Uint8Array, offset: number): void;
  borrow(offset: number, length: number, fn: (bytes: Uint8Array) => void): boolean;
  /** How bytes are read now ('read' after a fallback). */
  readonly method: ReadMethod;
  /** Why mmap was given up, when it was tried and failed. */
  readonly fallback: string | undefined;
  close(): void;
}

export interface FileReaderOptions {
  /** 'auto' (default): mmap for files under /proc (i.e. /proc/vmcore), read() otherwise. */
  mmap?: boolean | 'auto';
  /** Size of the file when stat cannot tell (block devices report 0). */
  size?: number;
  /** mmap window size (MMAP_WINDOW under /proc, else FILE_WINDOW); a multiple of the page size. */
  window?: number;
}

export function openFileReader(path: string, opts: FileReaderOptions = {}): FileReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new FileError(path, (e as NodeJS.ErrnoException).code ?? 'EIO', {
      cause: e,
      hint: path === '/proc/vmcore' ? 'only a kdump capture kernel has /proc/vmcore' : undefined,
    });
  }
  const st = fstatSync(fd);
  const total = opts.size ?? (st.isFile() ? st.size : Number.MAX_SAFE_INTEGER);
  const wantMmap = opts.mmap ?? 'auto';
  const proc = underProc(path);
  let method: ReadMethod =
    st.isFile() && (wantMmap === true || (wantMmap === 'auto' && proc)) ? 'mmap' : 'read';
  let fallback: string | undefined;
  let win: FileWindow | undefined;
  const winSize = opts.window ?? (proc ? MMAP_WINDOW : FILE_WINDOW);

  const pread = (into: Uint8Array, offset: number, from = 0) => {
    for (let done = from; done < into.byteLength; ) {
      const n = readSync(fd, into, done, into.byteLength - done, offset + done);
      if (n === 0) checkRange(offset, into.byteLength, offset + done, path); // throws: file ended early
      done += n;
    }
  };
  const windowAt = (pos: number): FileWindow | undefined => {
    const start = pos - (pos % winSize);
    if (win?.offset === start) return win;
    const length = Math.min(winSize, total - start);
    try {
      // The next window replaces the last one at the same addresses (one mmap call, no munmap).
      if (win && length <= win.capacity) win.remap(start, length);
      else {
        win?.unmap(); // the first window was the file's short tail
        win = undefined;
        win = mapFileWindow(fd, start, length);
      }
    } catch (e) {
      try {
        win?.unmap();
      } catch {}
      win = undefined;
      method = 'read';
      fallback = (e as Error).message;
    }
    return win;
  };

  const reader: FileReader = {
    size: total,
    get method() {
      return method;
    },
    get fallback() {
      return fallback;
    },
    get window() {
      return method === 'mmap' ? winSize : undefined;
    },
    readInto(into, offset) {
      checkRange(offset, into.byteLength, total, path);
      let done = 0;
      while (method === 'mmap' && done < into.byteLength) {
        const w = windowAt(offset + done);
        if (!w) break;
        const n = Math.min(into.byteLength - done, w.offset + w.length - (offset + done));
        w.copy(offset + done, into, done, n);
        done += n;
      }
      if (done < into.byteLength) pread(into, offset, done);
    },
    borrow(offset, length, fn) {
      checkRange(offset, length, total, path);
      if (method !== 'mmap' || length === 0) return false;
      if (Math.floor(offset / winSize) !== Math.floor((offset + length - 1) / winSize)) return false;
      const w = windowAt(offset);
      if (!w) return false;
      w.lend(offset, length, fn);
      return true;
    },
    read(offset, length) {
      checkRange(offset, length, Math.min(total, offset + MAX_READ), path);
      const out = new Uint8Array(length);
      reader.readInto(out, offset);
      return out;
    },
    close() {
      try {
        win?.unmap();
      } finally {
        win = undefined;
        closeSync(fd);
      }
    },
  };
  return reader;
}

function underProc(path: string): boolean {
  try {
    return realpathSync(path).startsWith('/proc/');
  } catch {
    return false;
  }
}
