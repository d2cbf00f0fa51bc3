// A decoder for the lz4 frame format (what the `lz4` command writes by default; lz4's
// doc/lz4_Frame_format.md). Frame: magic 0x184D2204 (LE), a descriptor (FLG, BD, optional 8-byte
// content size, optional 4-byte dictionary id, header checksum), then blocks, each a le32 whose top
// bit marks an uncompressed block, the data, and a 4-byte checksum when FLG asks for one; a zero
// size ends the frame, optionally followed by a 4-byte content checksum. Frames may be concatenated
// and interleaved with skippable frames (magic 0x184D2A50..5F, le32 size). Checksums (xxHash32) are not
// verified: the kernel or the image's own checks catch corruption, and the decoder bounds every length.
import { FormatError, LimitError } from '../../errors.js';
import { decodeBlock } from './lz4-legacy.js';

/** lz4_Frame_format.md, "General Structure of LZ4 Frame format". */
export const LZ4_FRAME_MAGIC = 0x184d2204;
/** "Skippable Frames": any magic 0x184D2A5? */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** FLG bits: version (7-6) must be 01; block checksum (4); content size (3); content checksum (2); dict id (0). */
const FLG_VERSION = 0x40;
const FLG_BLOCK_CHECKSUM = 1 << 4;
const FLG_CONTENT_SIZE = 1 << 3;
const FLG_CONTENT_CHECKSUM = 1 << 2;
const FLG_DICT_ID = 1 << 0;
/** BD bits 6-4: block maximum size, 4 = 64 KiB ... 7 = 4 MiB. */
const BLOCK_MAX_BY_ID: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

const corrupt = (msg: string, at: number) =>
  new FormatError(`lz4 frame is corrupt: ${msg} at 0x${at.toString(16)}`, 'lz4-frame', at);

export function lz4FrameDecompress(src: Uint8Array, maxOutput: number): Uint8Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const u32 = (at: number, what: string) => {
    if (at + 4 > src.byteLength) throw corrupt(`${what} runs past the end`, at);
    return view.getUint32(at, true);
  };
  let out = new Uint8Array(Math.min(maxOutput, Math.max(1 << 20, src.byteLength * 3)));
  let o = 0;
  const room = (need: number) => {
    if (need > maxOutput) {
      throw new LimitError(`lz4 output exceeds the ${maxOutput}-byte limit`, 'lz4-frame', undefined, {
        hint: 'the file may be a decompression bomb; raise the limit only for a file you trust',
      });
    }
    if (need <= out.byteLength) return;
    const grown = new Uint8Array(Math.min(maxOutput, Math.max(need, out.byteLength * 2)));
    grown.set(out.subarray(0, o));
    out = grown;
  };
  let i = 0;
  if (u32(0, 'magic') !== LZ4_FRAME_MAGIC)
    throw new FormatError('no lz4 frame magic 04 22 4d 18', 'lz4-frame', 0);
  while (i < src.byteLength) {
    const magic = u32(i, 'frame magic');
    if ((magic & SKIPPABLE_MASK) === SKIPPABLE_MAGIC) {
      const size = u32(i + 4, 'skippable frame size');
      if (i + 8 + size > src.byteLength) throw corrupt(`skippable frame of ${size} bytes`, i);
      i += 8 + size;
      continue;
    }
    if (magic !== LZ4_FRAME_MAGIC) throw corrupt('trailing bytes after the last frame', i);
    if (i + 7 > src.byteLength) throw corrupt('frame descriptor runs past the end', i);
    const flg = src[i + 4]!;
    const bd = src[i + 5]!;
    if ((flg & 0xc0) !== FLG_VERSION) throw corrupt(`frame version ${(flg >> 6) & 3}`, i + 4);
    const blockMax = BLOCK_MAX_BY_ID[(bd >> 4) & 7];
    if (blockMax === undefined) throw corrupt(`block maximum size id ${(bd >> 4) & 7}`, i + 5);
    i += 6 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0) + 1;
    if (flg & FLG_DICT_ID) throw corrupt('frames with an external dictionary are not supported', i);
    for (;;) {
      const field = u32(i, 'block size');
      i += 4;
      if (field === 0) break;
      // The top bit of the size field flags an uncompressed block.
      const size = field & 0x7fffffff;
      if (size > blockMax || i + size > src.byteLength) throw corrupt(`block size ${size}`, i - 4);
      if (field >>> 31 === 1) {
        room(o + size);
        out.set(src.subarray(i, i + size), o);
        o += size;
      } else {
        const limit = Math.min(maxOutput, o + blockMax);
        room(limit);
        const at = i;
        const overflow = () =>
          limit === maxOutput && maxOutput < o + blockMax
            ? new LimitError(`lz4 output exceeds the ${maxOutput}-byte limit`, 'lz4-frame')
            : corrupt(`block decodes to more than ${blockMax} bytes`, at);
        o = decodeBlock(src, i, i + size, out, o, limit, overflow);
      }
      i += size + (flg & FLG_BLOCK_CHECKSUM ? 4 : 0);
    }
    i += flg & FLG_CONTENT_CHECKSUM ? 4 : 0;
    if (i > src.byteLength) throw corrupt('content checksum runs past the end', i);
  }
  return out.subarray(0, o);
}
