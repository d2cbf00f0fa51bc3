// A decoder for the lz4 "legacy" frame, the one the kernel uses for CONFIG_KERNEL_LZ4 (built with
// `lz4 -l`; read by lib/decompress_unlz4.c). Frame: magic 0x184C2102 (LE), then blocks, each a
// le32 compressed size and an lz4 block that decodes to at most 8 MiB; another magic may start a new
// frame. Block format per lz4's doc/lz4_Block_format.md: sequences of a token (high nibble literal
// length, low nibble match length - 4, 15 = more bytes follow, each added until one is < 255),
// literals, a le16 match offset (1..65535, back into the output) and the match copy.
import { FormatError, LimitError } from '../../errors.js';

/** lz4 legacy frame magic number (lz4 doc/lz4_Frame_format.md, "Legacy frame"). */
export const LZ4_LEGACY_MAGIC = 0x184c2102;
/** "Legacy frame ... each block decompresses to 8 MB" (LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE). */
export const LZ4_LEGACY_BLOCK_MAX = 8 << 20;
/** lz4 block format: the minimum match length, added to the token's low nibble. */
const MIN_MATCH = 4;

const corrupt = (msg: string, at: number) =>
  new FormatError(`lz4 data is corrupt: ${msg} at 0x${at.toString(16)}`, 'lz4', at);

/** Decode one block from `src` into `out` at `o`; returns the new output position. */
export function decodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  o: number,
  limit: number,
  overflow: () => Error,
): number {
  let i = start;
  const need = (n: number, what: string) => {
    if (i + n > end) throw corrupt(`${what} runs past the block`, i);
  };
  const extra = (base: number): number => {
    let len = base;
    if (base !== 15) return len;
    for (;;) {
      need(1, 'length byte');
      const b = src[i++]!;
      len += b;
      if (b !== 255) return len;
    }
  };
  while (i < end) {
    const token = src[i++]!;
    const lit = extra(token >> 4);
    need(lit, 'literals');
    if (o + lit > limit) throw overflow();
    out.set(src.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i === end) return o; // the last sequence has literals only
    need(2, 'match offset');
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o) throw corrupt(`match offset ${offset} outside the output`, i - 2);
    const len = extra(token & 15) + MIN_MATCH;
    if (o + len > limit) throw overflow();
    // Overlapping copies (offset < len) repeat the pattern, so copy byte by byte.
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset]!;
  }
  return o;
}

/**
 * Decompress an lz4 legacy stream. The output buffer grows as needed up to `maxOutput`
 * (LimitError past it); corrupt data is a FormatError.
 */
export function lz4LegacyDecompress(src: Uint8Array, maxOutput: number): Uint8Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (src.byteLength < 4 || view.getUint32(0, true) !== LZ4_LEGACY_MAGIC)
    throw new FormatError('no lz4 legacy magic 02 21 4c 18', 'lz4', 0);
  let out = new Uint8Array(Math.min(maxOutput, Math.max(1 << 20, src.byteLength * 3)));
  let o = 0;
  let i = 4;
  while (i + 4 <= src.byteLength) {
    const size = view.getUint32(i, true);
    i += 4;
    if (size === LZ4_LEGACY_MAGIC) continue; // a concatenated frame
    // A block's compressed size never exceeds the lz4 bound of its 8 MiB output.
    if (size > LZ4_LEGACY_BLOCK_MAX + (LZ4_LEGACY_BLOCK_MAX >> 8) + 16 || i + size > src.byteLength)
      throw corrupt(`block size ${size}`, i - 4);
    const blockEnd = o + LZ4_LEGACY_BLOCK_MAX;
    const limit = Math.min(maxOutput, blockEnd);
    const at = i;
    const overflow = () =>
      maxOutput < blockEnd
        ? new LimitError(`lz4 output exceeds the ${maxOutput}-byte limit`, 'lz4', undefined, {
            hint: 'the file may be a decompression bomb; raise the limit only for a file you trust',
          })
        : corrupt('block decodes to more than 8 MiB', at);
    if (out.byteLength < limit) {
      const grown = new Uint8Array(Math.min(maxOutput, Math.max(limit, out.byteLength * 2)));
      grown.set(out.subarray(0, o));
      out = grown;
    }
    o = decodeBlock(src, i, i + size, out, o, limit, overflow);
    i += size;
  }
  if (i !== src.byteLength) throw corrupt('trailing bytes after the last block', i);
  return out.subarray(0, o);
}
