// The system's zstd library (libzstd.so.1, Debian package libzstd1, which apt and dpkg depend on) through
// koffi: zstd for Node.js releases whose node:zlib has none (it came in 22.15 and 23.8). The same
// library makedumpfile --zstd links. Loaded on first use only; src/formats/compress/zstd.ts prefers
// node:zlib when it has zstd and uses this otherwise.
// Facts from zstd 1.5.4's zstd.h (libzstd-dev), cited at each use; the functions used are all in its
// stable API.
import { endianness } from 'node:os';
import { StateError } from '../errors.js';
import { type Koffi, openLibrary } from './koffi.js';
import { libraryForImage, mappedLibrary } from './mapped-library.js';

/** The soname of zstd on Debian (package libzstd1), the one makedumpfile links. */
export const LIBZSTD = 'libzstd.so.1';

/** zstd.h: `ZSTD_c_compressionLevel=100` (ZSTD_cParameter). */
const ZSTD_C_COMPRESSION_LEVEL = 100;
/** zstd.h ZSTD_EndDirective: `ZSTD_e_continue=0`, `ZSTD_e_end=2`. */
const ZSTD_E_CONTINUE = 0;
const ZSTD_E_END = 2;

/** Typed arrays up to this size may live on V8's heap (and move): never passed by address. */
const MAX_ON_HEAP = 64;

/** A reusable compression context (ZSTD_CCtx) at one level. */
export interface ZstdCompressor {
  /**
   * ZSTD_compressCCtx of `src[srcOff, srcOff + len)` into `dst` at `dstOff` (room for `bound(len)`): one
   * complete frame, as makedumpfile --zstd writes per page. Returns the compressed length. Buffers go by
   * address, so both must be larger than 64 bytes (V8 keeps smaller typed arrays on its heap).
   */
  compressInto(src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number;
  /**
   * ZSTD_compressStream2: feeds `src` into the current frame and returns what came out (possibly
   * nothing); `end` closes the frame. The stream of `kdump build-initrd --compress zstd`.
   */
  stream(src: Uint8Array, end: boolean): Uint8Array[];
  /** ZSTD_freeCCtx; the compressor must not be used afterwards. */
  close(): void;
}

export interface Libzstd {
  /** The library name or path that was loaded. */
  readonly library: string;
  /** ZSTD_versionString(), e.g. "1.5.4". */
  readonly version: string;
  /** ZSTD_compressBound(len): the most a single frame of `len` bytes can take. */
  bound(len: number): number;
  /** ZSTD_compress at `level`: one complete frame. */
  compress(src: Uint8Array, level: number): Uint8Array;
  /**
   * ZSTD_decompressStream over all of `src` (one or more frames, with or without a content size), with
   * the output capped: throws RangeError past `maxOutput` bytes, StateError on corrupt or truncated input.
   */
  decompress(src: Uint8Array, maxOutput: number): Uint8Array;
  /** ZSTD_decompress of `src` into `dst` (its capacity is the cap); returns the length written. */
  decompressInto(src: Uint8Array, dst: Uint8Array): number;
  /** A ZSTD_CCtx with ZSTD_c_compressionLevel set to `level`. */
  compressor(level: number): ZstdCompressor;
}

type Ptr = unknown;
interface Functions {
  koffi: Koffi;
  version: string;
  isError: (code: number | bigint) => number;
  errorName: (code: number | bigint) => string;
  compressBound: (n: number) => number | bigint;
  compress: (dst: Uint8Array, cap: number, src: Uint8Array, len: number, level: number) => number | bigint;
  decompress: (dst: Uint8Array, cap: number, src: Uint8Array, len: number) => number | bigint;
  createCCtx: () => Ptr;
  freeCCtx: (c: Ptr) => number | bigint;
  setParameter: (c: Ptr, param: number, value: number) => number | bigint;
  compressCCtxAt: (
    c: Ptr,
    dst: number,
    cap: number,
    src: number,
    len: number,
    level: number,
  ) => number | bigint;
  compressStream2At: (c: Ptr, out: number, inp: number, end: number) => number | bigint;
  createDCtx: () => Ptr;
  freeDCtx: (d: Ptr) => number | bigint;
  decompressStreamAt: (d: Ptr, out: number, inp: number) => number | bigint;
  dStreamOutSize: () => number | bigint;
}

const loaded = new Map<string, Functions>();

function bind(library: string): Functions {
  const have = loaded.get(library);
  if (have) return have;
  // RTLD_DEEPBIND: Node.js >= 22.15 exports its own (bundled, newer) zstd's symbols, and without it the
  // library's calls between its own functions would bind to those, with another struct layout.
  const { koffi, lib } = openLibrary(
    library,
    'install the zstd library (apt-get install libzstd1), or run kexec-ts on Node.js >= 22.15',
    { deep: true },
  );
  // zstd.h: every size_t result is a length or an error code that ZSTD_isError() recognizes.
  // Opaque contexts are `void *`; the streaming calls take ZSTD_inBuffer/ZSTD_outBuffer by pointer, built
  // here in memory of our own and passed as addresses (uintptr_t, the same registers as a pointer on
  // every Linux ABI koffi supports).
  const fns: Functions = {
    koffi,
    version: String(lib.func('const char *ZSTD_versionString(void)')()),
    isError: lib.func('unsigned int ZSTD_isError(size_t code)'),
    errorName: lib.func('const char *ZSTD_getErrorName(size_t code)'),
    compressBound: lib.func('size_t ZSTD_compressBound(size_t srcSize)'),
    compress: lib.func(
      'size_t ZSTD_compress(uint8_t *dst, size_t dstCapacity, const uint8_t *src, size_t srcSize, int level)',
    ),
    decompress: lib.func(
      'size_t ZSTD_decompress(uint8_t *dst, size_t dstCapacity, const uint8_t *src, size_t compressedSize)',
    ),
    createCCtx: lib.func('void *ZSTD_createCCtx(void)'),
    freeCCtx: lib.func('size_t ZSTD_freeCCtx(void *cctx)'),
    setParameter: lib.func('size_t ZSTD_CCtx_setParameter(void *cctx, int param, int value)'),
    compressCCtxAt: lib.func(
      'size_t ZSTD_compressCCtx(void *cctx, uintptr_t dst, size_t dstCapacity, uintptr_t src, size_t srcSize, int level)',
    ),
    compressStream2At: lib.func(
      'size_t ZSTD_compressStream2(void *cctx, uintptr_t output, uintptr_t input, int endOp)',
    ),
    createDCtx: lib.func('void *ZSTD_createDCtx(void)'),
    freeDCtx: lib.func('size_t ZSTD_freeDCtx(void *dctx)'),
    decompressStreamAt: lib.func(
      'size_t ZSTD_decompressStream(void *dctx, uintptr_t output, uintptr_t input)',
    ),
    dStreamOutSize: lib.func('size_t ZSTD_DStreamOutSize(void)'),
  };
  loaded.set(library, fns);
  return fns;
}

/**
 * ZSTD_inBuffer { const void *src; size_t size; size_t pos; } and ZSTD_outBuffer { void *dst; size_t
 * size; size_t pos; } (zstd.h "Streaming"), one after the other in a block off V8's heap. Fields are
 * written through their low 32 bits (pointers are whole words): sizes and positions stay below 4 GiB.
 */
class StreamBuffers {
  private readonly words: BigUint64Array | Uint32Array;
  private readonly cells: Uint32Array;
  private readonly lo = endianness() === 'LE' ? 0 : 1;
  readonly inAt: number;
  readonly outAt: number;
  constructor(
    private readonly koffi: Koffi,
    private readonly word: number,
  ) {
    const store = new ArrayBuffer(6 * 8);
    this.words = word === 8 ? new BigUint64Array(store) : new Uint32Array(store);
    this.cells = new Uint32Array(store);
    const base = Number(koffi.address(new Uint8Array(store)));
    this.inAt = base;
    this.outAt = base + 3 * word;
  }
  private set(field: number, value: number): void {
    if (this.word === 8) {
      this.cells[2 * field + this.lo] = value;
      this.cells[2 * field + 1 - this.lo] = 0;
    } else this.cells[field] = value;
  }
  private get(field: number): number {
    return this.word === 8 ? this.cells[2 * field + this.lo]! : this.cells[field]!;
  }
  private setPointer(field: number, b: Uint8Array): void {
    const at = this.koffi.address(b);
    if (this.words instanceof BigUint64Array) this.words[field] = at;
    else this.words[field] = Number(at);
  }
  input(b: Uint8Array): void {
    this.setPointer(0, b);
    this.set(1, b.byteLength);
    this.set(2, 0);
  }
  output(b: Uint8Array): void {
    this.setPointer(3, b);
    this.set(4, b.byteLength);
    this.set(5, 0);
  }
  get inPos(): number {
    return this.get(2);
  }
  get inSize(): number {
    return this.get(1);
  }
  get outPos(): number {
    return this.get(5);
  }
}

/** An off-heap copy of a small typed array, so that its address is stable (see MAX_ON_HEAP). */
const stable = (b: Uint8Array) =>
  b.byteLength > MAX_ON_HEAP ? b : new Uint8Array(new ArrayBuffer(128), 0, b.byteLength);

/** Loads libzstd (or `library`, a name or path for dlopen); throws StateError when it does not load. */
export function openLibzstd(library: string = LIBZSTD): Libzstd {
  const fns = bind(library);
  const word = fns.koffi.sizeof('size_t');
  const check = (what: string, r: number | bigint): number => {
    if (fns.isError(r)) throw new StateError(`${what} = ${fns.errorName(r)}`);
    return Number(r);
  };
  const copyIn = (b: Uint8Array) => {
    const s = stable(b);
    if (s !== b) s.set(b);
    return s;
  };
  const outChunk = Number(fns.dStreamOutSize());
  return {
    library,
    version: fns.version,
    bound: (len) => check('ZSTD_compressBound', fns.compressBound(len)),
    compress(src, level) {
      const dst = new Uint8Array(check('ZSTD_compressBound', fns.compressBound(src.byteLength)));
      const n = check(
        `ZSTD_compress(${src.byteLength} bytes)`,
        fns.compress(dst, dst.byteLength, src, src.byteLength, level),
      );
      return dst.subarray(0, n);
    },
    decompressInto(src, dst) {
      return check(
        `ZSTD_decompress(${src.byteLength} bytes)`,
        fns.decompress(dst, dst.byteLength, src, src.byteLength),
      );
    },
    decompress(src, maxOutput) {
      const dctx = fns.createDCtx();
      if (!dctx) throw new StateError('ZSTD_createDCtx() = NULL');
      const io = new StreamBuffers(fns.koffi, word);
      const input = copyIn(src);
      const chunks: Uint8Array[] = [];
      let total = 0;
      let left = 1; // ZSTD_decompressStream's last result: 0 when a frame is complete and flushed
      try {
        io.input(input);
        while (io.inPos < io.inSize || left !== 0) {
          const out = new Uint8Array(outChunk);
          io.output(out);
          const before = io.inPos;
          left = check('ZSTD_decompressStream', fns.decompressStreamAt(dctx, io.outAt, io.inAt));
          const n = io.outPos;
          if (n > 0) {
            total += n;
            if (total > maxOutput) throw new RangeError(`zstd output exceeds ${maxOutput} bytes`);
            chunks.push(out.subarray(0, n));
          } else if (io.inPos === before) {
            // No progress: the input ended inside a frame (or held none).
            throw new StateError(
              `ZSTD_decompressStream: input ends inside a frame (${src.byteLength} bytes)`,
            );
          }
        }
      } finally {
        fns.freeDCtx(dctx);
      }
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    },
    compressor(level) {
      const cctx = fns.createCCtx();
      if (!cctx) throw new StateError('ZSTD_createCCtx() = NULL');
      let closed = false;
      const io = new StreamBuffers(fns.koffi, word);
      const cell = (b: Uint8Array) => Number(fns.koffi.address(b));
      check(
        'ZSTD_CCtx_setParameter(ZSTD_c_compressionLevel)',
        fns.setParameter(cctx, ZSTD_C_COMPRESSION_LEVEL, level),
      );
      let lastSrc: Uint8Array | undefined;
      let srcAt = 0;
      let lastDst: Uint8Array | undefined;
      let dstAt = 0;
      const streamOut = Math.max(outChunk, 1 << 17);
      return {
        compressInto(src, srcOff, len, dst, dstOff) {
          if (closed) throw new StateError('ZSTD_compressCCtx on a freed context');
          if (src.byteLength <= MAX_ON_HEAP || dst.byteLength <= MAX_ON_HEAP)
            throw new RangeError(
              `ZSTD_compressCCtx: buffers of ${MAX_ON_HEAP} bytes or less are not passed by address`,
            );
          if (srcOff < 0 || len < 0 || dstOff < 0 || srcOff + len > src.byteLength || dstOff > dst.byteLength)
            throw new RangeError('ZSTD_compressCCtx: range outside the buffers');
          if (src !== lastSrc) {
            srcAt = cell(src);
            lastSrc = src;
          }
          if (dst !== lastDst) {
            dstAt = cell(dst);
            lastDst = dst;
          }
          // ZSTD_compressCCtx takes the level as an argument (zstd.h: "compressionLevel"): the frame is
          // what makedumpfile's ZSTD_compressCCtx(cctx, ..., 1) writes.
          return check(
            `ZSTD_compressCCtx(${len} bytes)`,
            fns.compressCCtxAt(cctx, dstAt + dstOff, dst.byteLength - dstOff, srcAt + srcOff, len, level),
          );
        },
        stream(src, end) {
          if (closed) throw new StateError('ZSTD_compressStream2 on a freed context');
          const input = copyIn(src);
          const out: Uint8Array[] = [];
          io.input(input);
          for (;;) {
            const chunk = new Uint8Array(streamOut);
            io.output(chunk);
            const left = check(
              'ZSTD_compressStream2',
              fns.compressStream2At(cctx, io.outAt, io.inAt, end ? ZSTD_E_END : ZSTD_E_CONTINUE),
            );
            if (io.outPos > 0) out.push(chunk.subarray(0, io.outPos));
            // zstd.h: with ZSTD_e_end, 0 means the frame is complete; with ZSTD_e_continue all input
            // is consumed once pos == size, and what stays buffered comes out later.
            if (end ? left === 0 : io.inPos === io.inSize && io.outPos < streamOut) break;
          }
          return out;
        },
        close() {
          if (closed) return;
          closed = true;
          fns.freeCCtx(cctx);
        },
      };
    },
  };
}

/**
 * libzstd for an image (capture initrd, lab guest): the file this machine loads and its place in the
 * image (see libraryForImage). Undefined when it does not load.
 */
export function libzstdForImage(library: string = LIBZSTD): { host: string; image: string } | undefined {
  try {
    bind(library);
  } catch {
    return undefined;
  }
  return libraryForImage(mappedLibrary(library), LIBZSTD);
}
