// Declarative binary structs: one table per struct, fields at the spec's offsets with the kernel's names.
// decode() bounds-checks every field against the buffer, so a parser can never read past the end;
// encode() writes the same table back (synthetic fixtures, boot_params building, round-trip tests).
import { TruncatedError } from '../errors.js';

export type Endian = 'le' | 'be';

interface FieldBase<T> {
  readonly offset: number;
  readonly size: number;
  read(view: DataView, at: number): T;
  write(view: DataView, at: number, value: T): void;
}
export type Field<T> = FieldBase<T>;

const le = (e: Endian) => e === 'le';

export const u8 = (offset: number): Field<number> => ({
  offset,
  size: 1,
  read: (v, at) => v.getUint8(at),
  write: (v, at, x) => v.setUint8(at, x),
});
export const u16 = (offset: number, e: Endian = 'le'): Field<number> => ({
  offset,
  size: 2,
  read: (v, at) => v.getUint16(at, le(e)),
  write: (v, at, x) => v.setUint16(at, x, le(e)),
});
export const u32 = (offset: number, e: Endian = 'le'): Field<number> => ({
  offset,
  size: 4,
  read: (v, at) => v.getUint32(at, le(e)),
  write: (v, at, x) => v.setUint32(at, x >>> 0, le(e)),
});
export const i32 = (offset: number, e: Endian = 'le'): Field<number> => ({
  offset,
  size: 4,
  read: (v, at) => v.getInt32(at, le(e)),
  write: (v, at, x) => v.setInt32(at, x, le(e)),
});
export const u64 = (offset: number, e: Endian = 'le'): Field<bigint> => ({
  offset,
  size: 8,
  read: (v, at) => v.getBigUint64(at, le(e)),
  write: (v, at, x) => v.setBigUint64(at, x, le(e)),
});
/** Raw bytes (a copy, so the result never aliases a large input buffer). */
export const bytes = (offset: number, size: number): Field<Uint8Array> => ({
  offset,
  size,
  read: (v, at) => new Uint8Array(v.buffer, v.byteOffset + at, size).slice(),
  write: (v, at, x) => new Uint8Array(v.buffer, v.byteOffset + at, size).set(x.subarray(0, size)),
});
/** Fixed-width ASCII, cut at the first NUL. */
export const ascii = (offset: number, size: number): Field<string> => ({
  offset,
  size,
  read: (v, at) => {
    let s = '';
    for (let i = 0; i < size; i++) {
      const c = v.getUint8(at + i);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  },
  write: (v, at, x) => {
    for (let i = 0; i < size; i++) v.setUint8(at + i, i < x.length ? x.charCodeAt(i) & 0xff : 0);
  },
});

type FieldMap = Record<string, Field<unknown>>;
export type StructValue<F extends FieldMap> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

export interface Struct<F extends FieldMap> {
  readonly name: string;
  readonly fields: F;
  /** One past the highest byte any field touches (relative to the struct's base). */
  readonly size: number;
  decode(data: Uint8Array, base?: number): StructValue<F>;
  encode(value: Partial<StructValue<F>>, into?: Uint8Array, base?: number): Uint8Array;
}

export function viewOf(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

export function defineStruct<F extends FieldMap>(name: string, fields: F): Struct<F> {
  const entries = Object.entries(fields);
  const size = Math.max(0, ...entries.map(([, f]) => f.offset + f.size));
  const sorted = [...entries].sort((a, b) => a[1].offset - b[1].offset);
  for (let i = 1; i < sorted.length; i++) {
    const [pn, p] = sorted[i - 1]!;
    const [cn, c] = sorted[i]!;
    if (p.offset + p.size > c.offset) throw new Error(`struct ${name}: field ${pn} overlaps ${cn}`);
  }
  return {
    name,
    fields,
    size,
    decode(data, base = 0) {
      const view = viewOf(data);
      const out: Record<string, unknown> = {};
      for (const [key, f] of entries) {
        const at = base + f.offset;
        if (at < 0 || at + f.size > data.byteLength) {
          throw new TruncatedError(name, key, at, f.size, data.byteLength);
        }
        out[key] = f.read(view, at);
      }
      return out as StructValue<F>;
    },
    encode(value, into, base = 0) {
      const buf = into ?? new Uint8Array(base + size);
      const view = viewOf(buf);
      for (const [key, f] of entries) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        const at = base + f.offset;
        if (at + f.size > buf.byteLength) throw new TruncatedError(name, key, at, f.size, buf.byteLength);
        f.write(view, at, v);
      }
      return buf;
    },
  };
}
