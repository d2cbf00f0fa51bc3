// Every length, count or offset read from a file goes through these before it is used.
import { LimitError, TruncatedError } from '../errors.js';

/** A count or size from a file, checked against a hard cap we chose to bound time and memory. */
export function bounded(value: number | bigint, maximum: number, what: string, format = what): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0 || n > maximum) {
    throw new LimitError(`${what} is ${value}, outside 0..${maximum}`, format);
  }
  return n;
}

/** [offset, offset+length) must lie inside data; returns a view (no copy). */
export function slice(
  data: Uint8Array,
  offset: number | bigint,
  length: number | bigint,
  what: string,
): Uint8Array {
  const off = Number(offset);
  const len = Number(length);
  if (
    !Number.isSafeInteger(off) ||
    !Number.isSafeInteger(len) ||
    off < 0 ||
    len < 0 ||
    off + len > data.byteLength
  ) {
    throw new TruncatedError(what, 'range', Number.isSafeInteger(off) ? off : -1, len, data.byteLength);
  }
  return data.subarray(off, off + len);
}

export function startsWith(data: Uint8Array, magic: ArrayLike<number>, at = 0): boolean {
  if (at + magic.length > data.byteLength) return false;
  for (let i = 0; i < magic.length; i++) if (data[at + i] !== magic[i]) return false;
  return true;
}
