// zstd frames for fixtures, from whichever zstd this Node uses (node:zlib's on >= 22.15, else libzstd's):
// the tests run on Node 18 and 20 too (scripts/test-unit.mjs).
import { zstdCodec } from '../../src/formats/compress/zstd.js';

/** One zstd frame of `b` at `level` (3: the zstd CLI's default). */
export const zstdCompressSync = (b: Uint8Array, level = 3): Buffer =>
  Buffer.from(zstdCodec().compress(b, level));
