// LZO1X: the stream format makedumpfile's -l pages use (lzo1x_1_compress output, read back with
// lzo1x_decompress_safe). Written here from the format description in the kernel's
// Documentation/staging/lzo.rst, because no npm LZO package ships a prebuilt binary or pure JS
// compressor (`lzo` builds with node-gyp; `lzo-decompress` and `lzo-wasm` only decompress).
//
// The stream is a sequence of instructions. A literal run copies bytes from the input; a match copies
// from what was already produced. Each match's low two bits (S) say how many literals (0..3) follow it
// directly, and the "state" that S (or a longer literal run, state 4) leaves decides how the next
// opcode below 16 reads. The stream ends with the M4 instruction of distance 16384: 0x11 0x00 0x00.
// The compressor below is our own greedy LZ77 with a hash table of 4-byte sequences; any encoder that
// follows the format is valid LZO1X, so its bytes differ from liblzo's but decode the same.
import { FormatError } from '../../errors.js';

/** Opcode ranges (lzo.rst "Byte sequences"). */
const M2_MAX_OFFSET = 0x800; // 01LDDDSS / 1LLDDDSS: distance 1..2048, length 3..8
const M3_MAX_OFFSET = 0x4000; // 001LLLLL: distance 1..16384
const M4_MAX_OFFSET = 0xbfff; // 0001HLLL: distance 16385..49151
const M2_MAX_LEN = 8;
const MIN_MATCH = 4;
const HASH_BITS = 14; // 16384 entries: fewer false candidates than 8192 (3% faster, 0.1% smaller on the lab dump)

function corrupt(what: string, at: number): never {
  throw new FormatError(`LZO data is corrupt: ${what}`, 'lzo', at);
}

/** Decodes one LZO1X stream that must produce exactly `outLen` bytes and end at the input's end. */
export function lzo1xDecompress(src: Uint8Array, outLen: number): Uint8Array {
  const out = new Uint8Array(outLen);
  let ip = 0;
  let op = 0;
  let state = 0;
  const byte = () => {
    if (ip >= src.length) corrupt('input ends inside an instruction', ip);
    return src[ip++]!;
  };
  /** Length extension: each zero byte adds 255, the first non-zero byte ends it. */
  const extend = (base: number) => {
    let n = base;
    for (let b = byte(); b === 0; b = byte()) {
      n += 255;
      if (n > outLen + 255) corrupt('length runs past the output', ip);
    }
    return n + src[ip - 1]!;
  };
  const literals = (n: number) => {
    if (op + n > outLen) corrupt('literal run past the output size', ip);
    if (ip + n > src.length) corrupt('literal run past the input', ip);
    out.set(src.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  const copy = (distance: number, n: number) => {
    if (distance > op || distance <= 0) corrupt(`match distance ${distance} before the output start`, ip);
    if (op + n > outLen) corrupt('match past the output size', ip);
    for (let i = 0; i < n; i++, op++) out[op] = out[op - distance]!;
  };
  // A first byte above 17 is a literal run of (byte - 17); below 4 it leaves that state, else 4.
  if (src.length > 0 && src[0]! > 17) {
    const t = src[ip++]! - 17;
    literals(t);
    state = Math.min(t, 4);
  }
  for (;;) {
    const t = byte();
    let s: number;
    if (t < 16) {
      if (state === 0) {
        literals(t === 0 ? extend(15) + 3 : t + 3);
        state = 4;
        continue;
      }
      const h = byte();
      s = t & 3;
      if (state === 4) copy((h << 2) + ((t >> 2) & 3) + 2049, 3);
      else copy((h << 2) + ((t >> 2) & 3) + 1, 2);
    } else if (t < 32) {
      const len = (t & 7) === 0 ? extend(7) + 2 : (t & 7) + 2;
      const lo = byte();
      const hi = byte();
      const d = (hi << 6) | (lo >> 2);
      const distance = 16384 + ((t & 8) << 11) + d;
      if (distance === 16384) {
        if (op !== outLen) corrupt(`stream ends after ${op} of ${outLen} bytes`, ip);
        if (ip !== src.length) corrupt(`${src.length - ip} bytes after the end marker`, ip);
        return out;
      }
      s = lo & 3;
      copy(distance, len);
    } else if (t < 64) {
      const len = (t & 31) === 0 ? extend(31) + 2 : (t & 31) + 2;
      const lo = byte();
      const hi = byte();
      s = lo & 3;
      copy(((hi << 6) | (lo >> 2)) + 1, len);
    } else {
      const h = byte();
      s = t & 3;
      const len = t >= 128 ? ((t >> 5) & 3) + 5 : ((t >> 5) & 1) + 3;
      copy((h << 3) + ((t >> 2) & 7) + 1, len);
    }
    literals(s);
    state = s;
  }
}

/** Worst case: all literals (length header up to n/255 + 3 bytes) plus the 3-byte end marker. */
export const lzo1xBound = (n: number) => n + Math.ceil(n / 255) + 16;

/** Reusable state for compressing many pages: the hash table and the output buffer. */
export interface Lzo1xScratch {
  table: Int32Array;
  /** Added to positions stored in `table`, so entries of earlier inputs are stale without clearing. */
  base: number;
  out: Uint8Array;
  /** DataViews over the last input's and output's ArrayBuffers (kept while the caller reuses them). */
  view: DataView;
  outView: DataView;
}

export function lzo1xScratch(): Lzo1xScratch {
  return {
    table: new Int32Array(1 << HASH_BITS),
    base: 0,
    out: new Uint8Array(0),
    view: new DataView(new ArrayBuffer(0)),
    outView: new DataView(new ArrayBuffer(0)),
  };
}

/**
 * Compresses `src` as one LZO1X stream. Greedy: at each position the previous occurrence of the next
 * four bytes (hash table, last seen wins) is extended as far as it matches; literals that find no
 * match are skipped over faster the longer the run (incompressible pages cost little). With `scratch`
 * the result is a view into its buffer, valid until the next call.
 */
export function lzo1xCompress(src: Uint8Array, scratch: Lzo1xScratch = lzo1xScratch()): Uint8Array {
  const n = src.length;
  if (scratch.out.length < lzo1xBound(n)) scratch.out = new Uint8Array(lzo1xBound(n));
  return scratch.out.subarray(0, lzo1xCompressInto(src, 0, n, scratch.out, 0, scratch));
}

/**
 * lzo1xCompress of `src[srcOff, srcOff + n)` written to `dst` at `dstOff` (room for lzo1xBound(n)
 * bytes needed); returns the stream's length. Allocates nothing per call: 4-byte sequences are read
 * as one little-endian int32 through a DataView kept in `scratch` (one load instead of four byte loads
 * and shifts), matches are extended four bytes at a time (the first differing byte is the lowest set
 * byte of the XOR), and the loop keeps its state in int32 locals (no closures, whose captured
 * variables V8 keeps in a heap context).
 */
export function lzo1xCompressInto(
  src: Uint8Array,
  srcOff: number,
  n: number,
  dst: Uint8Array,
  dstOff: number,
  scratch: Lzo1xScratch,
): number {
  const table = scratch.table;
  if (scratch.base + n + 1 > 0x7fff_ffff) {
    table.fill(0);
    scratch.base = 0;
  }
  let view = scratch.view;
  if (view.buffer !== src.buffer) view = scratch.view = new DataView(src.buffer);
  let outView = scratch.outView;
  if (outView.buffer !== dst.buffer) outView = scratch.outView = new DataView(dst.buffer);
  // `p` = byte offset of the input's start in the view; all positions below are relative to it
  const p = src.byteOffset + srcOff;
  const q = dst.byteOffset; // the same for the output
  // entries below `base` belong to earlier inputs; positions are stored as base + 1 + i
  const base = scratch.base;
  scratch.base += n + 1;
  if (n > M2_MAX_LEN + 1 && isOneByteRepeated(view, p, n)) {
    // 38% of the non-zero pages of the lab's real dump: one literal, then one match at distance 1
    // (M3 001LLLLL: length 2 + L or 31 + extension; distance - 1 = 0 in the two following bytes)
    dst[dstOff] = 17 + 1;
    dst[dstOff + 1] = src[srcOff]!;
    let op = putLength(dst, dstOff + 2, 31, n - 1 - 2, 0x20);
    dst[op++] = 0;
    dst[op++] = 0;
    dst[op++] = 0x11; // end of stream, as below
    dst[op++] = 0;
    dst[op++] = 0;
    return op - dstOff;
  }
  let op = dstOff;
  let lit = 0; // start of the pending literal run
  let sPos = -1; // byte of the last match that holds its S bits
  let i = 0;
  const last = n - MIN_MATCH;
  while (i <= last) {
    const seq = view.getInt32(p + i, true);
    const h = Math.imul(seq, 0x9e3779b1) >>> (32 - HASH_BITS);
    const cand = table[h]! - base - 1;
    table[h] = base + 1 + i;
    const distance = i - cand;
    if (cand < 0 || distance > M4_MAX_OFFSET || view.getInt32(p + cand, true) !== seq) {
      i += 1 + ((i - lit) >> 5);
      continue;
    }
    // extend: eight bytes per step while they remain, then byte by byte; the first differing byte
    // is the lowest set byte of the XOR (little-endian reads)
    let len = MIN_MATCH;
    const room = n - i;
    const ci = p + cand;
    const ii = p + i;
    for (;;) {
      if (len + 8 > room) {
        while (len < room && view.getUint8(ci + len) === view.getUint8(ii + len)) len++;
        break;
      }
      const x = view.getInt32(ci + len, true) ^ view.getInt32(ii + len, true);
      if (x !== 0) {
        len += (31 - Math.clz32(x & -x)) >> 3;
        break;
      }
      const y = view.getInt32(ci + len + 4, true) ^ view.getInt32(ii + len + 4, true);
      if (y !== 0) {
        len += 4 + ((31 - Math.clz32(y & -y)) >> 3);
        break;
      }
      len += 8;
    }
    if (i > lit) op = putLiterals(view, p + lit, i - lit, dst, outView, q, op, sPos, dstOff);
    if (len <= M2_MAX_LEN && distance <= M2_MAX_OFFSET) {
      const d = distance - 1;
      sPos = op;
      dst[op++] = (len <= 4 ? 0x40 | ((len - 3) << 5) : 0x80 | ((len - 5) << 5)) | ((d & 7) << 2);
      dst[op++] = d >> 3;
    } else if (distance <= M3_MAX_OFFSET) {
      const d = distance - 1;
      op = putLength(dst, op, 31, len - 2, 0x20); // length 2 + (L ?: 31 + extension)
      sPos = op;
      dst[op++] = (d & 63) << 2;
      dst[op++] = d >> 6;
    } else {
      const d = distance - 16384;
      op = putLength(dst, op, 7, len - 2, 0x10 | ((d >> 11) & 8)); // length 2 + (L ?: 7 + extension)
      sPos = op;
      dst[op++] = (d & 63) << 2;
      dst[op++] = (d >> 6) & 0xff;
    }
    i += len;
    lit = i;
  }
  if (n > lit) op = putLiterals(view, p + lit, n - lit, dst, outView, q, op, sPos, dstOff);
  dst[op++] = 0x11; // M4, distance 16384, length 3: end of stream
  dst[op++] = 0;
  dst[op++] = 0;
  return op - dstOff;
}

/** Whether all `n` bytes at `p` in `view` are the same byte: whole words against the first, then the tail. */
function isOneByteRepeated(view: DataView, p: number, n: number): boolean {
  const b = view.getUint8(p);
  const w = Math.imul(b, 0x0101_0101) | 0;
  let k = 0;
  for (; k + 4 <= n; k += 4) if (view.getInt32(p + k, true) !== w) return false;
  for (; k < n; k++) if (view.getUint8(p + k) !== b) return false;
  return true;
}

/** A length above the opcode's base: in its `max` bits, or a zero opcode field and 255-steps. */
function putLength(dst: Uint8Array, op: number, max: number, len: number, opcode: number): number {
  if (len <= max) {
    dst[op++] = opcode | len;
    return op;
  }
  dst[op++] = opcode;
  let rem = len - max;
  while (rem > 255) {
    dst[op++] = 0;
    rem -= 255;
  }
  dst[op++] = rem;
  return op;
}

/**
 * A literal run of `count` bytes at `from` in `src`: its header (or the S bits of the last match), then
 * the bytes, copied four at a time (`q` is `dst`'s offset in `dstView`).
 */
function putLiterals(
  src: DataView,
  from: number,
  count: number,
  dst: Uint8Array,
  dstView: DataView,
  q: number,
  op: number,
  sPos: number,
  start: number,
): number {
  if (sPos < 0 && op === start && count <= 238)
    dst[op++] = 17 + count; // first-byte form
  else if (count <= 3) {
    if (sPos < 0) throw new Error('lzo: short literal run without a preceding match');
    dst[sPos]! |= count;
  } else op = putLength(dst, op, 15, count - 3, 0); // 0000LLLL: length 3 + (L ?: 15 + extension)
  let k = 0;
  for (; k + 4 <= count; k += 4) dstView.setInt32(q + op + k, src.getInt32(from + k, true), true);
  for (; k < count; k++) dst[op + k] = src.getUint8(from + k);
  return op + count;
}
