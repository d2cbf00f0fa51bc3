// LZO1X decoding: the stream format makedumpfile's -l pages use (lzo1x_1_compress output, read back with
// lzo1x_decompress_safe). Written here from the format description in the kernel's
// Documentation/staging/lzo.rst, so that reading a dump (vmcore info, dmesg, crash's input) needs no
// native library. Writing goes through the system's liblzo2 as makedumpfile's does (src/sys/liblzo2.ts,
// compressed/codec.ts lzoWriter): one encoder, the one every LZO reader was tested against.
//
// The stream is a sequence of instructions. A literal run copies bytes from the input; a match copies
// from what was already produced. Each match's low two bits (S) say how many literals (0..3) follow it
// directly, and the "state" that S (or a longer literal run, state 4) leaves decides how the next
// opcode below 16 reads. The stream ends with the M4 instruction of distance 16384: 0x11 0x00 0x00.
import { FormatError } from '../../errors.js';

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
