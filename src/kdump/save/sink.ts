// Where a dump is written: a file (positioned writes under a temporary name, fsync, rename, directory
// fsync) or a flattened stream (makedumpfile -F: every positioned write becomes an {offset, size}
// record, so the output can go to a pipe). Both take the same pwrite calls.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError } from '../../errors.js';
import {
  END_FLAG_FLAT_HEADER,
  FLAT_DATA_HEADER_SIZE,
  FLAT_HEADER_BLOCK,
  MAKEDUMPFILE_SIGNATURE,
  MakedumpfileDataHeader,
  MakedumpfileHeader,
  TYPE_FLAT_HEADER,
  VERSION_FLAT_HEADER,
} from '../compressed/layout.js';

export interface Sink {
  pwrite(data: Uint8Array, offset: number): void;
  /** Everything is written: make it durable and visible under its final name. */
  commit(): void;
  /**
   * Something failed: keep what exists under `keepAs` or drop it. A kdump-compressed file's header
   * still says incomplete; a stream keeps nothing (it lacks its end marker instead).
   */
  abort(keepAs?: string): string | undefined;
  /** Bytes written to the destination so far (records included for a stream). */
  readonly written: number;
  /**
   * A flattened stream: each byte range should be written once. crash's reader (makedumpfile.c
   * `read_flattened_format`) binary-searches records sorted by offset and may take an earlier one,
   * so a header rewritten at the end would be read as its first, incomplete version.
   */
  readonly stream: boolean;
}

/** Writes all of `data` to fd (at `pos`, or sequentially), retrying short writes and EAGAIN on pipes. */
export function writeAll(fd: number, data: Uint8Array, pos?: number): void {
  for (let w = 0; w < data.byteLength; ) {
    try {
      w += writeSync(fd, data, w, data.byteLength - w, pos === undefined ? null : pos + w);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

export function tempNameFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}`);
}

export function openFileSink(dest: string): Sink {
  const tmp = tempNameFor(dest);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (e) {
    throw new FileError(tmp, (e as NodeJS.ErrnoException).code ?? 'EIO', { cause: e });
  }
  let written = 0;
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    stream: false,
    get written() {
      return written;
    },
    pwrite(data, offset) {
      writeAll(fd, data, offset);
      written += data.byteLength;
    },
    commit() {
      fsyncSync(fd);
      close();
      renameSync(tmp, dest);
      syncDir(dirname(dest));
    },
    abort(keepAs) {
      try {
        if (keepAs) fsyncSync(fd);
      } catch {}
      try {
        close();
      } catch {}
      try {
        if (keepAs) {
          renameSync(tmp, keepAs);
          return keepAs;
        }
        unlinkSync(tmp);
      } catch {}
      return undefined;
    },
  };
}

/** makedumpfile -F to an open fd (stdout): header block, records, end marker on commit. */
export function openFlatSink(fd: number): Sink {
  const head = new Uint8Array(FLAT_HEADER_BLOCK);
  MakedumpfileHeader.encode(
    { signature: MAKEDUMPFILE_SIGNATURE, type: TYPE_FLAT_HEADER, version: VERSION_FLAT_HEADER },
    head,
  );
  writeAll(fd, head);
  let written = head.byteLength;
  const record = (offset: bigint, size: bigint) =>
    MakedumpfileDataHeader.encode({ offset, buf_size: size }, new Uint8Array(FLAT_DATA_HEADER_SIZE));
  return {
    stream: true,
    get written() {
      return written;
    },
    pwrite(data, offset) {
      if (data.byteLength === 0) return;
      writeAll(fd, record(BigInt(offset), BigInt(data.byteLength)));
      writeAll(fd, data);
      written += FLAT_DATA_HEADER_SIZE + data.byteLength;
    },
    commit() {
      writeAll(fd, record(END_FLAG_FLAT_HEADER, END_FLAG_FLAT_HEADER));
      written += FLAT_DATA_HEADER_SIZE;
      try {
        fsyncSync(fd);
      } catch {} // a pipe cannot be fsynced
    },
    abort() {
      return undefined; // no end marker: a reader sees a truncated stream (its header was written complete)
    },
  };
}

/** Rebuilds the normal file image from a flattened stream held in memory (tests, small dumps). */
export function unflatten(stream: Uint8Array): Uint8Array {
  const h = MakedumpfileHeader.decode(stream);
  if (h.signature !== MAKEDUMPFILE_SIGNATURE || h.type !== TYPE_FLAT_HEADER) {
    throw new Error('not a flattened makedumpfile stream');
  }
  const parts: { offset: number; data: Uint8Array }[] = [];
  let size = 0;
  for (let at = FLAT_HEADER_BLOCK; ; ) {
    const r = MakedumpfileDataHeader.decode(stream, at);
    at += FLAT_DATA_HEADER_SIZE;
    if (r.offset === END_FLAG_FLAT_HEADER && r.buf_size === END_FLAG_FLAT_HEADER) break;
    const n = Number(r.buf_size);
    parts.push({ offset: Number(r.offset), data: stream.subarray(at, at + n) });
    size = Math.max(size, Number(r.offset) + n);
    at += n;
  }
  const out = new Uint8Array(size);
  for (const p of parts) out.set(p.data, p.offset);
  return out;
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
