// zstd, whichever way this runtime has it: node:zlib's when Node.js has it (22.15 and 23.8 on), else the
// system's libzstd through koffi (src/sys/libzstd.ts), so that Debian 12's Node 18 and Debian 13's
// Node 20 read and write zstd too. Both are the zstd reference library; their frames are interchangeable
// (test/unit/formats/zstd.test.ts decodes each one's output with the other). Nothing here imports a
// zstd name from node:zlib: on an older Node that import fails when the module loads, taking every
// command that loads it down with it (issue 13: `vmcore dmesg` on Node 20.20.2).
import type { Transform } from 'node:stream';
import { Transform as TransformStream } from 'node:stream';
import * as zlib from 'node:zlib';
import { StateError } from '../../errors.js';
import { LIBZSTD, type Libzstd, openLibzstd, type ZstdCompressor } from '../../sys/libzstd.js';

/** zstd.h `ZSTD_CLEVEL_DEFAULT 3`: the level of `zstd` without -#, and of node:zlib's zstd streams. */
export const ZSTD_DEFAULT_LEVEL = 3;

export interface ZstdCodec {
  /** `node:zlib` or `libzstd 1.5.4` (what vmcore save and doctor report). */
  readonly engine: string;
  /** One complete frame at `level`. */
  compress(src: Uint8Array, level: number): Uint8Array;
  /**
   * All frames of `src`, the output capped at `maxOutput` bytes: past it a RangeError with code
   * ERR_BUFFER_TOO_LARGE, as node:zlib's maxOutputLength throws; corrupt input throws another error.
   */
  decompress(src: Uint8Array, maxOutput: number): Uint8Array;
  /** One frame of at most `size` bytes (a dump page): throws when it holds more. */
  decompressPage(src: Uint8Array, size: number): Uint8Array;
  /** A compressing stream (one frame) at `level`. */
  compressStream(level?: number): Transform;
  /** A reusable context at `level` for many small frames, or undefined where the engine has none. */
  compressor?(level: number): ZstdCompressor;
  /** ZSTD_compressBound of libzstd; undefined for node:zlib. */
  bound?(len: number): number;
}

type NodeZstd = {
  zstdCompressSync?: (b: Uint8Array, o: zlib.ZstdOptions) => Buffer;
  zstdDecompressSync?: (b: Uint8Array, o: zlib.ZstdOptions) => Buffer;
  createZstdCompress?: (o: zlib.ZstdOptions) => Transform;
};

/** node:zlib's zstd, or undefined on a Node.js without it. */
export function nodeZstdCodec(): ZstdCodec | undefined {
  const z = zlib as NodeZstd;
  const { zstdCompressSync: compress, zstdDecompressSync: decompress, createZstdCompress: stream } = z;
  if (!compress || !decompress || !stream) return undefined;
  const params = (level: number) => ({ params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
  return {
    engine: 'node:zlib',
    compress: (src, level) => compress(src, params(level)),
    decompress: (src, maxOutput) => decompress(src, { maxOutputLength: maxOutput }),
    decompressPage: (src, size) => decompress(src, { maxOutputLength: size }),
    compressStream: (level = ZSTD_DEFAULT_LEVEL) => stream(params(level)),
  };
}

/** The system's libzstd (or `library`); throws StateError when it does not load. */
export function libzstdCodec(library: string = LIBZSTD): ZstdCodec {
  const lib = openLibzstd(library);
  return {
    engine: `libzstd ${lib.version}`,
    compress: (src, level) => lib.compress(src, level),
    decompress(src, maxOutput) {
      try {
        return lib.decompress(src, maxOutput);
      } catch (e) {
        if (e instanceof RangeError) Object.assign(e, { code: 'ERR_BUFFER_TOO_LARGE' });
        throw e;
      }
    },
    decompressPage(src, size) {
      const out = new Uint8Array(size);
      return out.subarray(0, lib.decompressInto(src, out));
    },
    compressStream: (level = ZSTD_DEFAULT_LEVEL) => libzstdStream(lib, level),
    compressor: (level) => lib.compressor(level),
    bound: (len) => lib.bound(len),
  };
}

/** One frame through ZSTD_compressStream2, as a Transform (what createZstdCompress is on Node >= 22.15). */
function libzstdStream(lib: Libzstd, level: number): Transform {
  const c = lib.compressor(level);
  return new TransformStream({
    transform(chunk: Buffer, _enc, done) {
      try {
        for (const out of c.stream(chunk, false)) this.push(out);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      try {
        for (const out of c.stream(new Uint8Array(0), true)) this.push(out);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    destroy(err, done) {
      c.close();
      done(err);
    },
  });
}

let chosen: ZstdCodec | undefined;
/** What zstdCodec() may use: node:zlib's zstd, and which libzstd. Changed only by detectZstdAs(). */
let engines = { node: true, library: LIBZSTD };

/**
 * The zstd of this runtime: node:zlib's, else libzstd's. Throws StateError (E_STATE) naming both when
 * neither is there, e.g. Node.js 20 on a system without libzstd.so.1.
 */
export function zstdCodec(): ZstdCodec {
  if (chosen) return chosen;
  const native = engines.node ? nodeZstdCodec() : undefined;
  if (native) {
    chosen = native;
    return native;
  }
  try {
    chosen = libzstdCodec(engines.library);
    return chosen;
  } catch (e) {
    throw new StateError(
      `zstd is not available: Node.js ${process.versions.node} has no zstd in node:zlib (22.15 and later do) and ${(e as Error).message}`,
      {
        cause: e,
        hint: 'install the zstd library (apt-get install libzstd1), or run kexec-ts on Node.js >= 22.15',
      },
    );
  }
}

/**
 * Tests: zstdCodec() from now on chooses as on a runtime whose node:zlib has no zstd (`node: false`)
 * or whose libzstd is `library` (a name that does not load: a system without it). No options: as this
 * runtime is.
 */
export function detectZstdAs(o: { node?: boolean; library?: string } = {}): void {
  chosen = undefined;
  engines = { node: o.node ?? true, library: o.library ?? LIBZSTD };
}
