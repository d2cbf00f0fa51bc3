// One compression context per dump, reused for every page. `deflateSync`/`zstdCompressSync` build a
// whole zlib stream object per call (a Transform stream, fresh native state, a 16 KiB output buffer),
// and that garbage, freed only at GC, was ~100 MB of the peak RSS of `vmcore save -c` (docs/kdump.md).
// Here the stream object is created once and its native handle is driven directly: writeSync with the
// finishing flush compresses one page straight into the caller's buffer. The bytes are identical to
// deflateSync/zstdCompressSync with the same options (checked page by page on the lab's real dump, and
// in test/unit/kdump/page-compressor.test.ts), so readers see the same per-page streams: a complete zlib
// stream that makedumpfile and crash pass to uncompress(), a complete zstd frame for ZSTD_decompress().
//
// The handle (`_handle.writeSync`, `_writeState`) is what Node's own zlibBufferSync uses, but it is not
// a documented API: when it is missing the compressor falls back to the one-shot calls. LZO is the
// system's liblzo2 (lzo1x_1_compress, what makedumpfile -l calls; src/sys/liblzo2.ts), writing straight
// into the caller's buffer; without it `-l` is a StateError before any file is written
// (compressed/codec.ts requirePageCodec). snappy (compressed/codec.ts) is wrapped, with its per-page
// garbage bounded by a periodic scavenge.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
// A namespace import: a named import of ZstdCompress fails to load on Node.js < 22.15 (no zstd there).
import * as zlib from 'node:zlib';
import { type ZstdCodec, zstdCodec } from '../../formats/compress/zstd.js';
import { type Liblzo2, lzo1xWorstCase } from '../../sys/liblzo2.js';
import { lzoWriter, pageCompressor as oneShotCodec, type PageCompression } from '../compressed/codec.js';

export interface PageCompressor {
  /**
   * Compresses `src[srcOff, srcOff + pageSize)` into `dst` at `dstOff` (room for `bound` bytes needed).
   * Returns the compressed length, or 0 when it is not smaller than the page (store the page raw).
   */
  compressInto(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): number;
  /** Output room compressInto may use: enough for any page (compressBound plus frame overhead). */
  readonly bound: number;
  /** What compresses the pages, e.g. `liblzo2 2.10` or `node:zlib` (reported by vmcore save). */
  readonly engine: string;
  /** Frees the native context. */
  close(): void;
}

// zlib level 1 (makedumpfile -c calls compress2(..., Z_BEST_SPEED)); zstd level 1 (makedumpfile
// --zstd: ZSTD_compressCCtx(..., 1)): makedumpfile.c, write_kdump_pages_cyclic.
const ZLIB_OPTS = { level: zlib.constants.Z_BEST_SPEED };
const ZSTD_OPTS = { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } };

interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}
interface StreamInternals {
  _handle?: NativeHandle;
  _writeState?: Uint32Array;
  destroyed: boolean;
  close(): void;
  on(event: 'error', fn: (e: Error) => void): void;
}

/** The compressor for a dump's pages; undefined for `none` (pages stored raw). */
export function openPageCompressor(kind: PageCompression, pageSize: number): PageCompressor | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'zlib') return reusedContext(kind, pageSize);
  if (kind === 'zstd') {
    // Node.js >= 22.15 has zstd in node:zlib; older ones use the system's libzstd (zstd.ts).
    const z = zstdCodec();
    return z.compressor ? libzstdInto(z, pageSize) : reusedContext(kind, pageSize);
  }
  if (kind === 'lzo') return liblzo2Into(lzoWriter(), pageSize);
  const compress = oneShotCodec(kind);
  // The snappy binding returns a new buffer per page (it has no compress-into call). Young garbage at
  // that rate makes V8 grow its new space to the maximum, and the buffers' native memory is freed only
  // when a scavenge finds them dead: peak RSS was 120 MB on the real dump against 76 MB for zlib. A
  // scavenge every SCAVENGE_PAGES pages (live data is a few KiB, so it costs well under a millisecond)
  // keeps both small.
  const scavenge = minorGc();
  let pages = 0;
  return {
    bound: pageSize,
    engine: 'snappy (napi-rs)',
    compressInto(src, srcOff, dst, dstOff) {
      if (scavenge && ++pages % SCAVENGE_PAGES === 0) scavenge({ type: 'minor' });
      const out = compress(src.subarray(srcOff, srcOff + pageSize));
      if (!out || out.byteLength >= pageSize) return 0;
      dst.set(out, dstOff);
      return out.byteLength;
    },
    close() {},
  };
}

const SCAVENGE_PAGES = 256;

/**
 * V8's gc() without starting node with --expose-gc: the flag is set at run time, and a new context
 * (whose global gets gc) hands the function out; the flag is cleared again. Undefined when refused.
 */
function minorGc(): ((o: { type: 'minor' }) => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? (gc as (o: { type: 'minor' }) => void) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * liblzo2's lzo1x_1_compress straight into the caller's buffer (its bound is LZO's worst case, so the
 * caller leaves that much room); a page that does not shrink is reported as 0 and the caller stores it
 * raw over what was written. Buffers go by address (Liblzo2.compressInto): nothing per page is
 * allocated or copied.
 */
function liblzo2Into(lib: Liblzo2, pageSize: number): PageCompressor {
  return {
    bound: lzo1xWorstCase(pageSize),
    engine: `liblzo2 ${lib.version}`,
    compressInto(src, srcOff, dst, dstOff) {
      const n = lib.compressInto(src, srcOff, pageSize, dst, dstOff);
      return n >= pageSize ? 0 : n;
    },
    close() {},
  };
}

/**
 * libzstd's ZSTD_compressCCtx at level 1 (makedumpfile --zstd's call) straight into the caller's buffer,
 * one context for the dump; a page that does not shrink is reported as 0.
 */
function libzstdInto(z: ZstdCodec, pageSize: number): PageCompressor {
  const c = z.compressor!(1);
  const bound = z.bound!(pageSize);
  return {
    bound,
    engine: z.engine,
    compressInto(src, srcOff, dst, dstOff) {
      if (dst.byteLength - dstOff < bound) throw new RangeError('compressInto: no room');
      const n = c.compressInto(src, srcOff, pageSize, dst, dstOff);
      return n >= pageSize ? 0 : n;
    },
    close: () => c.close(),
  };
}

function reusedContext(kind: 'zlib' | 'zstd', pageSize: number): PageCompressor {
  // zlib's compressBound is len + len/4096 + len/16384 + 13 (+ 5 per 16 KiB stored block); zstd's is
  // len + len/256 + (128 KiB - len)/2048 plus an 18-byte frame header. A page plus a quarter covers both.
  const bound = pageSize + (pageSize >> 2) + 64;
  const make = () => (kind === 'zlib' ? new zlib.Deflate(ZLIB_OPTS) : new zlib.ZstdCompress(ZSTD_OPTS));
  let stream = make() as unknown as StreamInternals;
  if (typeof stream._handle?.writeSync !== 'function' || !(stream._writeState instanceof Uint32Array)) {
    stream.close();
    return oneShot(kind, pageSize, bound);
  }
  const engine = kind === 'zlib' ? 'node:zlib' : 'node:zlib (zstd)';
  let error: Error | undefined;
  const watch = (s: StreamInternals) => s.on('error', (e) => (error = e));
  watch(stream);
  // Z_FINISH ends the zlib stream (header, deflate data, adler32); zlib then needs deflateReset, which
  // keeps level and strategy. ZSTD_e_end ends the frame, and the next call starts a new one with the
  // same parameters; Node's zstd reset() would build a fresh context with default parameters.
  const finish = kind === 'zlib' ? zlib.constants.Z_FINISH : zlib.constants.ZSTD_e_end;
  return {
    bound,
    engine,
    compressInto(src, srcOff, dst, dstOff) {
      const handle = stream._handle;
      const state = stream._writeState;
      if (!handle || !state || dst.byteLength - dstOff < bound) throw new RangeError('compressInto: no room');
      handle.writeSync(finish, src, srcOff, pageSize, dst, dstOff, bound);
      if (error || stream.destroyed) {
        throw new Error(`${kind} page compression failed: ${error?.message ?? 'stream closed'}`);
      }
      const availOut = state[0]!;
      const availIn = state[1]!;
      if (availOut === 0 || availIn !== 0) {
        // Cannot happen with `bound` room; start over with a fresh context rather than a half frame.
        stream.close();
        stream = make() as unknown as StreamInternals;
        watch(stream);
        return 0;
      }
      if (kind === 'zlib') handle.reset();
      const n = bound - availOut;
      return n < pageSize ? n : 0;
    },
    close() {
      stream.close();
    },
  };
}

/** The documented one-shot calls (a context per page); used only when the handle is not there. */
function oneShot(kind: 'zlib' | 'zstd', pageSize: number, bound: number): PageCompressor {
  return {
    bound,
    engine: kind === 'zlib' ? 'node:zlib deflateSync' : 'node:zlib zstdCompressSync',
    compressInto(src, srcOff, dst, dstOff) {
      const page = src.subarray(srcOff, srcOff + pageSize);
      const out =
        kind === 'zlib' ? zlib.deflateSync(page, ZLIB_OPTS) : zlib.zstdCompressSync(page, ZSTD_OPTS);
      if (out.byteLength >= pageSize) return 0;
      dst.set(out, dstOff);
      return out.byteLength;
    },
    close() {},
  };
}
