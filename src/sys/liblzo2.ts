// The system's LZO library (liblzo2.so.2, Debian package liblzo2-2) through koffi: the
// lzo1x_1_compress that makedumpfile -l calls, and lzo1x_decompress_safe. Loaded on first use only;
// callers fall back to our JS codec (kdump/compressed/lzo.ts) when the library is not there.
// Facts from LZO 2.10's headers (liblzo2-dev): lzoconf.h and lzo1x.h, cited at each use.
import { endianness } from 'node:os';
import { StateError } from '../errors.js';
import { type Koffi, openLibrary } from './koffi.js';
import { libraryForImage, mappedLibrary } from './mapped-library.js';

/** The soname of LZO 2 on Debian (package liblzo2-2), the one makedumpfile links. */
export const LIBLZO2 = 'liblzo2.so.2';

/** lzoconf.h: `#define LZO_VERSION 0x20a0  /* 2.10 *\/`, the header these facts come from. */
export const LZO_VERSION = 0x20a0;
/** lzoconf.h: LZO_E_OK 0, LZO_E_INPUT_OVERRUN -4, LZO_E_OUTPUT_OVERRUN -5, ... */
const LZO_E_OK = 0;
const LZO_ERRORS: Record<number, string> = {
  [-1]: 'LZO_E_ERROR',
  [-4]: 'LZO_E_INPUT_OVERRUN',
  [-5]: 'LZO_E_OUTPUT_OVERRUN',
  [-6]: 'LZO_E_LOOKBEHIND_OVERRUN',
  [-7]: 'LZO_E_EOF_NOT_FOUND',
  [-8]: 'LZO_E_INPUT_NOT_CONSUMED',
};
const lzoError = (r: number) => LZO_ERRORS[r] ?? `LZO error ${r}`;

/**
 * Worst-case LZO1X output for `n` input bytes: `n + n / 16 + 64 + 3` (LZO.FAQ "How much can my data
 * expand during compression?", the OUT_LEN of examples/simple.c).
 */
export const lzo1xWorstCase = (n: number) => n + Math.floor(n / 16) + 64 + 3;

export interface Liblzo2 {
  /** The library name or path that was loaded. */
  readonly library: string;
  /** lzo_version_string(), e.g. "2.10". */
  readonly version: string;
  /**
   * lzo1x_1_compress of all of `src` into `dst` (room for lzo1xWorstCase(src.length)); returns the
   * compressed length. Work memory and the length cell are the instance's own, reused every call.
   */
  compress(src: Uint8Array, dst: Uint8Array): number;
  /**
   * lzo1x_1_compress of `src[srcOff, srcOff + len)` straight into `dst` at `dstOff`, which needs room
   * for lzo1xWorstCase(len) bytes; returns the compressed length. The per-page call of `vmcore save -l`:
   * the buffers go by address (koffi.address, cached while the same buffer comes back), so no view is
   * made per page and the output is not copied. Both buffers must be larger than 64 bytes: V8 keeps
   * smaller typed arrays on its heap, where they can move (ours are pages and chunk buffers).
   */
  compressInto(src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number;
  /** lzo1x_decompress_safe of all of `src` into `dst`; returns the length, throws on corrupt input. */
  decompress(src: Uint8Array, dst: Uint8Array): number;
}

/** Typed arrays up to this size may live on V8's heap (and move): never passed by address. */
const MAX_ON_HEAP = 64;

interface Functions {
  koffi: Koffi;
  version: string;
  compress: (
    src: Uint8Array,
    srcLen: number,
    dst: Uint8Array,
    dstLen: BigUint64Array,
    wrk: Uint8Array,
  ) => number;
  decompress: (src: Uint8Array, srcLen: number, dst: Uint8Array, dstLen: BigUint64Array, wrk: null) => number;
  /** lzo1x_1_compress with every pointer as an address. */
  compressAt: (src: number, srcLen: number, dst: number, dstLen: number, wrk: number) => number;
}

const loaded = new Map<string, Functions>();

function bind(library: string): Functions {
  const have = loaded.get(library);
  if (have) return have;
  const { koffi, lib } = openLibrary(library, 'install the LZO library: apt-get install liblzo2-2');
  // lzoconf.h: `LZO_EXTERN(int) __lzo_init_v2(unsigned,int,int,int,int,int,int,int,int,int);` and
  // `#define lzo_init() __lzo_init_v2(LZO_VERSION, sizeof(short), sizeof(int), sizeof(long),
  // sizeof(lzo_uint32_t), sizeof(lzo_uint), lzo_sizeof_dict_t, sizeof(char *), sizeof(lzo_voidp),
  // sizeof(lzo_callback_t))`. The library compares each size with its own build's and refuses a mismatch.
  const init = lib.func('int __lzo_init_v2(unsigned int, int, int, int, int, int, int, int, int, int)');
  const versionString = lib.func('const char *lzo_version_string(void)');
  // lzo_uint "must match size_t" (lzoconf.h), so lzo_uintp is size_t *; lzo_bytep is unsigned char *.
  const compress = lib.func(
    'int lzo1x_1_compress(const uint8_t *src, size_t src_len, uint8_t *dst, size_t *dst_len, void *wrkmem)',
  );
  const decompress = lib.func(
    'int lzo1x_decompress_safe(const uint8_t *src, size_t src_len, uint8_t *dst, size_t *dst_len, void *wrkmem)',
  );
  // The same function with its pointers declared as uintptr_t (x86_64, aarch64 and riscv64 pass both
  // in the same integer registers): koffi converts a number, not a typed array, per argument.
  const compressAt = lib.func(
    'int lzo1x_1_compress(uintptr_t src, size_t src_len, uintptr_t dst, uintptr_t dst_len, uintptr_t wrkmem)',
  );
  const ptr = koffi.sizeof('void *');
  const uint = koffi.sizeof('size_t');
  // lzoconf.h: lzo_sizeof_dict_t is sizeof(lzo_bytep); struct lzo_callback_t holds three function
  // pointers (nalloc, nfree, nprogress), lzo_voidp user1 and two lzo_xint (= lzo_uint when it has at
  // least 4 bytes) user2, user3: 4 pointers and 2 lzo_uint, no padding on LP64 or ILP32.
  const r = init(
    LZO_VERSION,
    koffi.sizeof('short'),
    koffi.sizeof('int'),
    koffi.sizeof('long'),
    4, // lzo_uint32_t
    uint,
    ptr, // lzo_sizeof_dict_t
    ptr, // char *
    ptr, // lzo_voidp
    4 * ptr + 2 * uint, // lzo_callback_t
  );
  if (r !== LZO_E_OK) {
    throw new StateError(`__lzo_init_v2(0x${LZO_VERSION.toString(16)}, ...) = ${lzoError(r)} in ${library}`, {
      hint: 'the library was built for another ABI or is not LZO 2',
    });
  }
  const fns: Functions = { koffi, version: String(versionString()), compress, decompress, compressAt };
  loaded.set(library, fns);
  return fns;
}

/** The library openLiblzo2() loads by default. Changed only by detectLiblzo2As(). */
let defaultLibrary = LIBLZO2;

/** Tests: openLiblzo2() from now on loads `library` (a name that does not load: a system without LZO). */
export function detectLiblzo2As(library: string = LIBLZO2): void {
  defaultLibrary = library;
}

/** Loads liblzo2 (or `library`, a name or path for dlopen) and initializes it; throws StateError if not. */
export function openLiblzo2(library: string = defaultLibrary): Liblzo2 {
  const fns = bind(library);
  // lzo1x.h: `#define LZO1X_1_MEM_COMPRESS ((lzo_uint32_t) (16384L * lzo_sizeof_dict_t))`: a hash table
  // of 16384 dictionary pointers. Allocated once per instance (128 KiB on 64-bit) and reused.
  // It and the lzo_uint length cell share one ArrayBuffer (off V8's heap: it never moves), so that
  // compressInto can pass both by address.
  const wrkBytes = 16384 * fns.koffi.sizeof('void *');
  const store = new ArrayBuffer(wrkBytes + 8);
  const wrkmem = new Uint8Array(store, 0, wrkBytes);
  // The lzo_uint cell both calls read (room) and write (length), accessed through its low 32 bits so
  // that no BigInt is made per call (pages and their bounds are far below 4 GiB).
  const dstLen = new BigUint64Array(store, wrkBytes, 1);
  const cell = new Uint32Array(store, wrkBytes, 2);
  const lo = endianness() === 'LE' ? 0 : 1;
  const setLen = (n: number) => {
    cell[lo] = n;
    cell[1 - lo] = 0;
  };
  const wrkAt = Number(fns.koffi.address(wrkmem));
  const addressOf = (b: Uint8Array) => Number(fns.koffi.address(b));
  let lastSrc: Uint8Array | undefined;
  let srcAt = 0;
  let lastDst: Uint8Array | undefined;
  let dstAt = 0;
  return {
    library,
    version: fns.version,
    compressInto(src, srcOff, len, dst, dstOff) {
      const room = lzo1xWorstCase(len);
      if (
        !Number.isInteger(srcOff) ||
        !Number.isInteger(dstOff) ||
        !Number.isInteger(len) ||
        srcOff < 0 ||
        dstOff < 0 ||
        len < 0 ||
        srcOff + len > src.byteLength ||
        dstOff + room > dst.byteLength
      )
        throw new RangeError('lzo1x_1_compress: range outside the buffers');
      if (src.byteLength <= MAX_ON_HEAP || dst.byteLength <= MAX_ON_HEAP)
        throw new RangeError(
          `lzo1x_1_compress: buffers of ${MAX_ON_HEAP} bytes or less are not passed by address`,
        );
      if (src !== lastSrc) {
        srcAt = addressOf(src);
        lastSrc = src;
      }
      if (dst !== lastDst) {
        dstAt = addressOf(dst);
        lastDst = dst;
      }
      setLen(room);
      const r = fns.compressAt(srcAt + srcOff, len, dstAt + dstOff, wrkAt + wrkBytes, wrkAt);
      if (r !== LZO_E_OK) throw new StateError(`lzo1x_1_compress(${len} bytes) = ${lzoError(r)}`);
      return cell[lo]!;
    },
    compress(src, dst) {
      if (dst.byteLength < lzo1xWorstCase(src.byteLength))
        throw new RangeError('lzo1x_1_compress: dst too small');
      setLen(dst.byteLength);
      const r = fns.compress(src, src.byteLength, dst, dstLen, wrkmem);
      // lzo1x_1_compress "always returns LZO_E_OK" (LZOAPI.TXT); checked all the same.
      if (r !== LZO_E_OK) throw new StateError(`lzo1x_1_compress(${src.byteLength} bytes) = ${lzoError(r)}`);
      return cell[lo]!;
    },
    decompress(src, dst) {
      setLen(dst.byteLength);
      const r = fns.decompress(src, src.byteLength, dst, dstLen, null);
      if (r !== LZO_E_OK)
        throw new StateError(`lzo1x_decompress_safe(${src.byteLength} bytes) = ${lzoError(r)}`);
      return cell[lo]!;
    },
  };
}

/**
 * The file the dynamic loader mapped for liblzo2 (once it is loaded), e.g.
 * /usr/lib/x86_64-linux-gnu/liblzo2.so.2.0.0: what a capture initrd copies so that `vmcore save -l`
 * there loads the same library. Undefined when it does not load.
 */
export function liblzo2File(library: string = defaultLibrary): string | undefined {
  try {
    bind(library);
  } catch {
    return undefined;
  }
  return mappedLibrary(library);
}

/** liblzo2 for an image (capture initrd, lab guest): see libraryForImage(). Undefined when it does not load. */
export function liblzo2ForImage(): { host: string; image: string } | undefined {
  return libraryForImage(liblzo2File(), LIBLZO2);
}
