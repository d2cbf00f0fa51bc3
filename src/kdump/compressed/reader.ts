// Reads a kdump-compressed file (ours or makedumpfile's): headers, the two bitmaps, and pages in pfn
// order through the descriptor table, decompressing zlib, LZO, snappy and zstd pages. Used to check our
// writer and to compare page sets with makedumpfile's output; KdumpVmcore (vmcore.ts) reads by address.
import { FormatError } from '../../errors.js';
import type { RandomAccessReader } from '../reader.js';
import { decompressPage } from './codec.js';
import {
  DiskDumpHeader,
  KDUMP_SIGNATURE,
  KdumpSubHeader,
  PAGE_DESC_SIZE,
  PageDesc,
  splitPfns,
} from './layout.js';

export interface KdumpFile {
  header: ReturnType<typeof DiskDumpHeader.decode>;
  sub: ReturnType<typeof KdumpSubHeader.decode>;
  maxMapnr: number;
  bitmapBytes: number;
  bitmap1Offset: number;
  bitmap2Offset: number;
  descStart: number;
  /** For one part of a split dump: the pfns [start, end) whose pages it holds. */
  split: { start: number; end: number } | undefined;
  /** Bytes [at, at + n) of bitmap 1 (valid) or 2 (dumpable). */
  bitmap(which: 1 | 2, at: number, n: number): Uint8Array;
  /** Set bits of a bitmap. */
  countBits(which: 1 | 2): number;
  /** Dumpable pages (of the part, for a split part) in ascending pfn order, descriptor and bytes. */
  pages(): Generator<{ pfn: number; desc: ReturnType<typeof PageDesc.decode>; data: Uint8Array }>;
}

export function openKdumpFile(r: RandomAccessReader): KdumpFile {
  const header = DiskDumpHeader.decode(r.read(0, DiskDumpHeader.size));
  if (header.signature !== KDUMP_SIGNATURE) {
    throw new FormatError('not a kdump-compressed file (no "KDUMP   " signature)', 'kdump', 0);
  }
  const bs = header.block_size;
  if (bs < 512 || bs > 1 << 20) throw new FormatError(`block_size ${bs} out of range`, 'kdump', 428);
  const sub = KdumpSubHeader.decode(r.read(bs, KdumpSubHeader.size));
  const maxMapnr = header.header_version >= 6 ? Number(sub.max_mapnr_64) : header.max_mapnr;
  const bitmapBytes = (header.bitmap_blocks / 2) * bs;
  const bitmap1Offset = (1 + header.sub_hdr_size) * bs;
  const bitmap2Offset = bitmap1Offset + bitmapBytes;
  const descStart = bitmap2Offset + bitmapBytes;
  const bitmap = (which: 1 | 2, at: number, n: number) =>
    r.read((which === 1 ? bitmap1Offset : bitmap2Offset) + at, n);
  const step = 1 << 20;
  const part = splitPfns(header.header_version, sub);
  const split = part ? { start: Number(part.start), end: Number(part.end) } : undefined;
  const [from, to] = split ? [split.start, Math.min(split.end, maxMapnr)] : [0, maxMapnr];
  return {
    header,
    sub,
    maxMapnr,
    bitmapBytes,
    bitmap1Offset,
    bitmap2Offset,
    descStart,
    split,
    bitmap,
    countBits(which) {
      let n = 0;
      for (let at = 0; at < bitmapBytes; at += step) {
        for (const b of bitmap(which, at, Math.min(step, bitmapBytes - at))) n += POPCOUNT[b]!;
      }
      return n;
    },
    *pages() {
      let index = 0;
      for (let at = 0; at < bitmapBytes; at += step) {
        const bits = bitmap(2, at, Math.min(step, bitmapBytes - at));
        for (let i = 0; i < bits.length; i++) {
          if (bits[i] === 0) continue;
          for (let b = 0; b < 8; b++) {
            if (!(bits[i]! & (1 << b))) continue;
            const pfn = (at + i) * 8 + b;
            if (pfn < from) continue;
            if (pfn >= to) return;
            const desc = PageDesc.decode(r.read(descStart + PAGE_DESC_SIZE * index++, PAGE_DESC_SIZE));
            const raw = r.read(Number(desc.offset), desc.size);
            yield { pfn, desc, data: decompressPage(raw, desc.flags, bs) };
          }
        }
      }
    },
  };
}

export const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});
