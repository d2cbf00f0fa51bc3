// Reads the declared uncompressed size of an .xz file from its Indexes, without decoding any block,
// so decompress() can refuse a bomb before allocating. Layout per "The .xz File Format" 1.x
// (tukaani.org xz-file-format.txt): §2.1 Stream = Header (12) Blocks Index Footer (12);
// §2.2 Stream Padding = multiples of 4 NUL bytes; §4 Index; §1.2 multibyte integers.
import { bounded, slice, startsWith } from '../../binary/bounds.js';
import { ascii, bytes, defineStruct, u8, u32, u64 } from '../../binary/struct.js';
import { FormatError, LimitError } from '../../errors.js';

/** §2.1.1.1 Header Magic Bytes. */
export const XZ_HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] as const;
/** §2.1.2.4 Footer Magic Bytes "YZ". */
const XZ_FOOTER_MAGIC = 'YZ';
const STREAM_HEADER_SIZE = 12; // §2.1.1
const STREAM_FOOTER_SIZE = 12; // §2.1.2

/** §2.1.2 Stream Footer. */
export const XzStreamFooter = defineStruct('xz_stream_footer', {
  crc32: u32(0),
  backward_size: u32(4), // §2.1.2.2: real size of the Index is (stored + 1) * 4
  stream_flags: bytes(8, 2),
  footer_magic: ascii(10, 2),
});

/** The "lzma alone" (.lzma) header: properties, dictionary size, then the uncompressed size. */
export const LzmaAloneHeader = defineStruct('lzma_alone_header', {
  properties: u8(0),
  dict_size: u32(1),
  uncompressed_size: u64(5), // all ones: unknown, the stream ends with an end marker
});
export const LZMA_SIZE_UNKNOWN = 0xffff_ffff_ffff_ffffn;

/** A cap on Index records across all streams; each record takes ≥ 2 bytes, so the file bounds it too. */
export const MAX_XZ_RECORDS = 1_000_000;

/** §1.2 Multibyte Integers: 7 bits per byte, little-endian, at most 9 bytes. */
function readVli(data: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const b = slice(data, at + i, 1, 'xz_vli')[0]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(value)) throw new LimitError(`xz integer ${value} is too large`, 'xz', at);
      return { value, next: at + i + 1 };
    }
  }
  throw new FormatError('xz multibyte integer longer than 9 bytes', 'xz', at);
}

const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

export interface XzStream {
  /** [start, end) of the stream in the file, padding excluded. */
  start: number;
  end: number;
  /** Uncompressed size its Index declares. */
  uncompressed: number;
}

/** Total uncompressed size declared by every Index in the file. */
export function xzDeclaredSize(data: Uint8Array): number {
  return xzStreams(data).reduce((sum, s) => sum + s.uncompressed, 0);
}

/**
 * The streams of an .xz file in file order, found from the end as liblzma does (footer, then
 * Backward Size to the Index, then the Index's block sizes back to the header). Throws FormatError
 * if the framing is inconsistent.
 */
export function xzStreams(data: Uint8Array): XzStream[] {
  let end = data.byteLength;
  let total = 0;
  let records = 0;
  const streams: XzStream[] = [];
  while (end > 0) {
    // §2.2 Stream Padding: skip 4-byte groups of NULs.
    while (
      end >= 4 &&
      data[end - 1] === 0 &&
      data[end - 2] === 0 &&
      data[end - 3] === 0 &&
      data[end - 4] === 0
    ) {
      end -= 4;
    }
    if (end === 0) break;
    const footer = XzStreamFooter.decode(
      slice(data, end - STREAM_FOOTER_SIZE, STREAM_FOOTER_SIZE, 'xz_stream_footer'),
    );
    if (footer.footer_magic !== XZ_FOOTER_MAGIC) {
      throw new FormatError('xz stream footer magic "YZ" not found', 'xz', end - 2);
    }
    const indexSize = (footer.backward_size + 1) * 4;
    const indexStart = end - STREAM_FOOTER_SIZE - indexSize;
    const index = slice(data, indexStart, indexSize, 'xz_index');
    // §4.1 Index Indicator is 0x00; §4.2 Number of Records; §4.3 records (Unpadded, Uncompressed).
    if (index[0] !== 0) throw new FormatError('xz index indicator is not 0x00', 'xz', indexStart);
    let at = 1;
    const count = readVli(index, at);
    at = count.next;
    records += bounded(count.value, MAX_XZ_RECORDS - records, 'xz index record count', 'xz');
    let blocks = 0;
    let uncompressedHere = 0;
    for (let i = 0; i < count.value; i++) {
      const unpadded = readVli(index, at);
      const uncompressed = readVli(index, unpadded.next);
      at = uncompressed.next;
      blocks += roundUp4(unpadded.value);
      uncompressedHere += uncompressed.value;
      total += uncompressed.value;
      if (!Number.isSafeInteger(total)) throw new LimitError('xz declared size overflows', 'xz');
    }
    // §4.4 Index Padding then §4.5 CRC32 must end exactly at the Index's declared size.
    if (roundUp4(at) + 4 !== indexSize)
      throw new FormatError('xz index size does not match its records', 'xz', indexStart);
    const start = indexStart - blocks - STREAM_HEADER_SIZE;
    if (start < 0 || !startsWith(data, XZ_HEADER_MAGIC, start)) {
      throw new FormatError('xz stream header not found where the index places it', 'xz', Math.max(start, 0));
    }
    streams.unshift({ start, end, uncompressed: uncompressedHere });
    end = start;
  }
  if (streams.length === 0) throw new FormatError('xz file has no stream', 'xz', 0);
  return streams;
}
