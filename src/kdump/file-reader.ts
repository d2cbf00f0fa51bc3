// A RandomAccessReader over a file with pread (readSync at a position): /proc/vmcore is several GiB and
// Node has no mmap, so only the ranges asked for are read.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FileError } from '../errors.js';
import { checkRange, type RandomAccessReader } from './reader.js';

/** Largest single read we allow (the text ring and descriptor arrays are read whole). */
export const MAX_READ = 1 << 30;

export function openFileReader(path: string, size?: number): RandomAccessReader & { close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new FileError(path, (e as NodeJS.ErrnoException).code ?? 'EIO', {
      cause: e,
      hint: path === '/proc/vmcore' ? 'only a kdump capture kernel has /proc/vmcore' : undefined,
    });
  }
  // Block devices report size 0; the caller may pass the size of what was written there.
  const st = fstatSync(fd);
  const total = size ?? (st.isFile() ? st.size : Number.MAX_SAFE_INTEGER);
  return {
    size: total,
    read(offset, length) {
      checkRange(offset, length, Math.min(total, offset + MAX_READ), path);
      const out = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) checkRange(offset, length, offset + done, path); // throws: file ended early
        done += n;
      }
      return new Uint8Array(out.buffer, out.byteOffset, length);
    },
    close() {
      closeSync(fd);
    },
  };
}
