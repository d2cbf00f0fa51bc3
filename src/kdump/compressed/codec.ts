// Per-page compression of kdump-compressed files: makedumpfile's four algorithms (makedumpfile.c
// write_kdump_pages_cyclic: compress2, lzo1x_1_compress, snappy_compress, ZSTD_compressCCtx) and the page
// descriptor flag each one sets (diskdump_mod.h DUMP_DH_COMPRESSED_*). zlib comes from node:zlib, zstd
// from formats/compress/zstd.ts (node:zlib's, else libzstd's), snappy from the `snappy` package (napi-rs,
// prebuilt binaries: no compiler at install). LZO is written by the system's liblzo2 (src/sys/liblzo2.ts,
// the library makedumpfile links) and read by our own decoder (lzo.ts), so reading a dump needs no
// native library.
import { createRequire } from 'node:module';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import { FormatError, StateError } from '../../errors.js';
import { zstdCodec } from '../../formats/compress/zstd.js';
import { type Liblzo2, lzo1xWorstCase, openLiblzo2 } from '../../sys/liblzo2.js';
import {
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
} from './layout.js';
import { lzo1xDecompress } from './lzo.js';

export const PAGE_COMPRESSIONS = ['none', 'zlib', 'lzo', 'snappy', 'zstd'] as const;
export type PageCompression = (typeof PAGE_COMPRESSIONS)[number];

/** The page_desc.flags / header status bit of each algorithm (makedumpfile diskdump_mod.h). */
export const COMPRESSION_FLAG: Record<PageCompression, number> = {
  none: 0,
  zlib: DUMP_DH_COMPRESSED_ZLIB,
  lzo: DUMP_DH_COMPRESSED_LZO,
  snappy: DUMP_DH_COMPRESSED_SNAPPY,
  zstd: DUMP_DH_COMPRESSED_ZSTD,
};

interface SnappyModule {
  compressSync(input: Uint8Array, opts?: { copyOutputData: boolean }): Buffer;
  uncompressSync(input: Uint8Array, opts?: { asBuffer: boolean; copyOutputData: boolean }): Buffer | string;
}
/**
 * copyOutputData: results in V8-allocated buffers. Without it each page's output is an external buffer
 * that the GC does not count, and RSS grew to 1 GiB on the 1.3 GB dump (61 MiB with it, and faster).
 */
const SNAPPY_ENC = { copyOutputData: true };
const SNAPPY_DEC = { asBuffer: true, copyOutputData: true };
let snappyModule: SnappyModule | undefined;
/** Loaded on first use: the native binding is only needed for snappy pages. */
function snappy(): SnappyModule {
  if (snappyModule === undefined) {
    try {
      snappyModule = createRequire(import.meta.url)('snappy') as SnappyModule;
    } catch (e) {
      throw new FormatError(`snappy codec unavailable: ${(e as Error).message}`, 'kdump', undefined, {
        cause: e,
        hint: 'reinstall dependencies so the snappy prebuilt binary for this platform is present',
      });
    }
  }
  return snappyModule;
}

/** liblzo2 for writing LZO pages; a StateError naming the feature when it does not load. */
export function lzoWriter(): Liblzo2 {
  try {
    return openLiblzo2();
  } catch (e) {
    throw new StateError(`LZO page compression needs liblzo2: ${(e as Error).message}`, {
      cause: e,
      hint: 'install the LZO library (apt-get install liblzo2-2), or compress with -c, -p or -z',
    });
  }
}

/**
 * Throws the typed error of a page codec this runtime cannot run (zstd with neither node:zlib's nor
 * libzstd, LZO without liblzo2, snappy without its prebuilt addon), so that `vmcore save` stops before
 * it writes anything.
 */
export function requirePageCodec(kind: PageCompression): void {
  if (kind === 'zstd') zstdCodec();
  else if (kind === 'lzo') lzoWriter();
  else if (kind === 'snappy') snappy();
}

/** A page compressor: the compressed bytes, or undefined for `none`. Level 1 / fastest, as makedumpfile. */
export function pageCompressor(kind: PageCompression): (page: Uint8Array) => Uint8Array | undefined {
  switch (kind) {
    case 'zlib': {
      const o = { level: constants.Z_BEST_SPEED };
      return (p) => deflateSync(p, o);
    }
    case 'zstd': {
      const z = zstdCodec();
      return (p) => z.compress(p, 1);
    }
    case 'lzo': {
      const lib = lzoWriter();
      return (p) => {
        const out = new Uint8Array(lzo1xWorstCase(p.byteLength));
        return out.subarray(0, lib.compress(p, out));
      };
    }
    case 'snappy': {
      const s = snappy();
      return (p) => s.compressSync(p, SNAPPY_ENC);
    }
    case 'none':
      return () => undefined;
  }
}

/** Decompresses one page by its descriptor flags; the result must be exactly `pageSize` bytes. */
export function decompressPage(raw: Uint8Array, flags: number, pageSize: number): Uint8Array {
  let out: Uint8Array;
  // Outside the try: a runtime without zstd is not a corrupt page.
  const zstd = flags & DUMP_DH_COMPRESSED_ZSTD ? zstdCodec() : undefined;
  try {
    if (flags & DUMP_DH_COMPRESSED_ZLIB) out = inflateSync(raw, { maxOutputLength: pageSize });
    else if (flags & DUMP_DH_COMPRESSED_LZO) out = lzo1xDecompress(raw, pageSize);
    else if (flags & DUMP_DH_COMPRESSED_SNAPPY) {
      // The block starts with its uncompressed length as a varint: check it before the decoder allocates.
      if (snappyLength(raw) !== pageSize) throw new FormatError('snappy page of the wrong length', 'kdump');
      out = snappy().uncompressSync(raw, SNAPPY_DEC) as Buffer;
    } else if (zstd) out = zstd.decompressPage(raw, pageSize);
    else if (flags === 0) out = raw;
    else throw new FormatError(`page compression flags 0x${flags.toString(16)} not supported`, 'kdump');
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`page data is corrupt: ${(e as Error).message}`, 'kdump', undefined, { cause: e });
  }
  if (out.byteLength !== pageSize) {
    throw new FormatError(`a page decompressed to ${out.byteLength} bytes, not ${pageSize}`, 'kdump');
  }
  return out;
}

/** The varint uncompressed length that starts a raw snappy block (format_description.txt). */
function snappyLength(raw: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 5 && i < raw.length; i++) {
    n += (raw[i]! & 0x7f) * 2 ** (7 * i);
    if (!(raw[i]! & 0x80)) return n;
  }
  return -1;
}
