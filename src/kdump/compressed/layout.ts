// makedumpfile's kdump-compressed format ("KDUMP   ", header version 6) and its flattened stream form.
// Field names and offsets follow makedumpfile's diskdump_mod.h (struct disk_dump_header,
// struct kdump_sub_header, page_desc_t) and IMPLEMENTATION; the flattened stream follows makedumpfile.h
// (struct makedumpfile_header, struct makedumpfile_data_header) and makedumpfile.c write_buffer.
// Little-endian, `long` = 8; the flattened record headers are big-endian.
import { ascii, bytes, defineStruct, i32, u32, u64 } from '../../binary/struct.js';

export const KDUMP_SIGNATURE = 'KDUMP   ';
export const KDUMP_HEADER_VERSION = 6;

/** Page descriptor and header status flags (diskdump_mod.h DUMP_DH_*). */
export const DUMP_DH_COMPRESSED_ZLIB = 0x1;
export const DUMP_DH_COMPRESSED_LZO = 0x2;
export const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
export const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
export const DUMP_DH_EXCLUDED_VMEMMAP = 0x10;
export const DUMP_DH_COMPRESSED_ZSTD = 0x20;

/** new_utsname: six fields of 65 bytes. */
export const UTS_LEN = 65;
export const UTS_FIELDS = ['sysname', 'nodename', 'release', 'version', 'machine', 'domainname'] as const;

/** struct disk_dump_header (464 bytes; block 0 of the file, zero-padded to block_size). */
export const DiskDumpHeader = defineStruct('disk_dump_header', {
  signature: ascii(0, 8),
  header_version: i32(8),
  utsname: bytes(12, 6 * UTS_LEN),
  timestamp_sec: u64(408),
  timestamp_usec: u64(416),
  status: u32(424),
  block_size: i32(428),
  sub_hdr_size: i32(432),
  bitmap_blocks: u32(436),
  max_mapnr: u32(440),
  total_ram_blocks: u32(444),
  device_blocks: u32(448),
  written_blocks: u32(452),
  current_cpu: u32(456),
  nr_cpus: i32(460),
});
export const DISK_DUMP_HEADER_SIZE = 464;

/** struct kdump_sub_header (104 bytes; block 1, followed at once by the copied ELF notes). */
export const KdumpSubHeader = defineStruct('kdump_sub_header', {
  phys_base: u64(0),
  dump_level: i32(8),
  split: i32(12),
  start_pfn: u64(16),
  end_pfn: u64(24),
  offset_vmcoreinfo: u64(32),
  size_vmcoreinfo: u64(40),
  offset_note: u64(48),
  size_note: u64(56),
  offset_eraseinfo: u64(64),
  size_eraseinfo: u64(72),
  start_pfn_64: u64(80),
  end_pfn_64: u64(88),
  max_mapnr_64: u64(96),
});
export const KDUMP_SUB_HEADER_SIZE = 104;

/**
 * The pfn range [start, end) of one part of a split dump (makedumpfile --split), or undefined for a whole
 * dump: `split` exists from header version 2, the 64-bit bounds from version 6 (crash diskdump.c
 * read_dump_header reads them the same way).
 */
export function splitPfns(
  headerVersion: number,
  sub: ReturnType<typeof KdumpSubHeader.decode>,
): { start: bigint; end: bigint } | undefined {
  if (headerVersion < 2 || sub.split === 0) return undefined;
  return headerVersion >= 6
    ? { start: sub.start_pfn_64, end: sub.end_pfn_64 }
    : { start: sub.start_pfn, end: sub.end_pfn };
}

/** struct page_desc: one per set bit of the dumpable bitmap, ascending pfn. */
export const PageDesc = defineStruct('page_desc', {
  offset: u64(0),
  size: u32(8),
  flags: u32(12),
  page_flags: u64(16),
});
export const PAGE_DESC_SIZE = 24;

/** Flattened format (-F): a 4096-byte header block, then {offset, size} BE records, ended by -1, -1. */
export const MAKEDUMPFILE_SIGNATURE = 'makedumpfile';
export const FLAT_HEADER_BLOCK = 4096;
export const TYPE_FLAT_HEADER = 1n;
export const VERSION_FLAT_HEADER = 1n;
export const MakedumpfileHeader = defineStruct('makedumpfile_header', {
  signature: ascii(0, 16),
  type: u64(16, 'be'),
  version: u64(24, 'be'),
});
export const MakedumpfileDataHeader = defineStruct('makedumpfile_data_header', {
  offset: u64(0, 'be'),
  buf_size: u64(8, 'be'),
});
export const FLAT_DATA_HEADER_SIZE = 16;
/** offset = size = -1 ends the stream. */
export const END_FLAG_FLAT_HEADER = 0xffff_ffff_ffff_ffffn;

/** Where each region of a kdump-compressed file starts (IMPLEMENTATION; makedumpfile.c write_kdump_header). */
export interface KdumpLayout {
  blockSize: number;
  subHdrSize: number;
  bitmapBlocks: number;
  /** Bytes of one bitmap (bitmap_blocks / 2 blocks). */
  bitmapBytes: number;
  offsetNote: number;
  bitmap1: number;
  bitmap2: number;
  descStart: number;
  dataStart: number;
}

export function kdumpLayout(
  blockSize: number,
  noteSize: number,
  maxMapnr: number,
  dumpable: number,
): KdumpLayout {
  const subHdrSize = Math.ceil((KDUMP_SUB_HEADER_SIZE + noteSize) / blockSize);
  const half = Math.ceil(Math.ceil(maxMapnr / 8) / blockSize);
  const bitmap1 = (1 + subHdrSize) * blockSize;
  const bitmapBytes = half * blockSize;
  const descStart = bitmap1 + 2 * bitmapBytes;
  return {
    blockSize,
    subHdrSize,
    bitmapBlocks: 2 * half,
    bitmapBytes,
    offsetNote: blockSize + KDUMP_SUB_HEADER_SIZE,
    bitmap1,
    bitmap2: bitmap1 + bitmapBytes,
    descStart,
    dataStart: descStart + PAGE_DESC_SIZE * dumpable,
  };
}
