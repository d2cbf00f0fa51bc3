// Random access to a (possibly huge) dump: callers ask for bounded ranges, never the whole file.
import { TruncatedError } from '../errors.js';

export interface RandomAccessReader {
  /** Bytes available; reads past it fail. */
  readonly size: number;
  /** Exactly `length` bytes at `offset` (throws TruncatedError when the file is shorter). */
  read(offset: number, length: number): Uint8Array;
  /** Like read() but into the caller's buffer (no allocation); file readers have it. */
  readInto?(into: Uint8Array, offset: number): void;
  /**
   * Zero-copy read: calls `fn` with a view of bytes [offset, offset + length) and returns true, when
   * they lie in one mapped window; returns false (fn not called) otherwise. The view is valid only
   * during `fn`. Mapping file readers have it.
   */
  borrow?(offset: number, length: number, fn: (bytes: Uint8Array) => void): boolean;
  /** Bytes per mapped window (borrow never spans two); undefined when nothing is mapped. */
  readonly window?: number;
  close?(): void;
}

/** An in-memory reader (tests, small files). Returns views, so callers must not modify the result. */
export function bytesReader(data: Uint8Array): RandomAccessReader {
  return {
    size: data.byteLength,
    read(offset, length) {
      checkRange(offset, length, data.byteLength, 'read');
      return data.subarray(offset, offset + length);
    },
  };
}

export function checkRange(offset: number, length: number, size: number, what: string): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new TruncatedError(what, 'range', Number.isSafeInteger(offset) ? offset : -1, length, size);
  }
}
