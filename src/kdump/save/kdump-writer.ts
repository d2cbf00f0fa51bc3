// Writes an ELF vmcore as a kdump-compressed file (makedumpfile's format: diskdump_mod.h, makedumpfile.c
// write_kdump_header and write_kdump_pages_and_bitmap_cyclic) with bounded
// memory. The struct page pass (../filter) runs first and decides bitmap 2 (zero pages stay dumpable
// and share one zero-page descriptor, as makedumpfile does), so the descriptor count is known before any
// page is read: descriptors and page data go to their two regions through two buffers in one sequential
// pass over the dumpable pages, read in chunks (256 KiB by default).
import { EM_X86_64 } from '../../formats/elf/ehdr.js';
import { COMPRESSION_FLAG, type PageCompression } from '../compressed/codec.js';
import {
  DISK_DUMP_HEADER_SIZE,
  DiskDumpHeader,
  DUMP_DH_COMPRESSED_INCOMPLETE,
  KDUMP_HEADER_VERSION,
  KDUMP_SIGNATURE,
  type KdumpLayout,
  KdumpSubHeader,
  kdumpLayout,
  PAGE_DESC_SIZE,
  UTS_FIELDS,
  UTS_LEN,
} from '../compressed/layout.js';
import { type PageClass, type PageFilter, planFilter } from '../filter/index.js';
import { NT_PRSTATUS } from '../prstatus.js';
import type { ElfVmcore } from '../vmcore-elf.js';
import { copyNotes, READ_CHUNK } from './notes.js';
import { openPageCompressor } from './page-compressor.js';
import { bitmapSlice, countKept, type PfnRange, PhysMemory } from './phys.js';
import type { Sink } from './sink.js';
import { isZeroPage, wordsOf } from './zero-page.js';

export type Compression = PageCompression;
/** Output buffer of the data region when compressing (compressed and raw pages): as small, as cached. */
const OUT_BUFFER = 256 << 10;
const DESC_BATCH = 4096;

export interface KdumpSaveOptions {
  level: number;
  compression: Compression;
  chunk?: number;
  /** Positioned read of the source into a buffer (see PhysMemory); saves a 4 MiB allocation per chunk. */
  pread?: (into: Uint8Array, offset: number) => void;
  onProgress?: (donePages: number, totalPages: number) => void;
  /** Why the level applied is lower than asked (unverified kernel, missing VMCOREINFO keys). */
  onWarning?: (message: string) => void;
  /**
   * Write one part of a split dump (makedumpfile --split): the pages of pfns [start, end) only. Header,
   * bitmaps and the descriptor region's size are those of the whole dump; the part's descriptors start
   * at the region's start and its data after the region (makedumpfile.c write_kdump_pages_cyclic with
   * split_start_pfn/split_end_pfn; crash diskdump.c pfn_to_pos counts bitmap 2 from start_pfn_64).
   */
  split?: PfnRange;
  /** The struct page pass already made for this dump and level (the parts of a split dump share one). */
  filter?: PageFilter;
}

export interface KdumpSaveStats {
  format: 'kdump';
  compression: Compression;
  levelRequested: number;
  /** The level written to the sub-header: the bits that were really applied. */
  level: number;
  maxMapnr: number;
  /** The kernel version row of the verified table that was used, if any. */
  verifiedKernel: string | null;
  /** Pages excluded by struct page class. */
  excluded: Record<PageClass, number> | null;
  dumpablePages: number;
  zeroPages: number;
  compressedPages: number;
  rawPages: number;
  bytes: number;
  /** What compressed the pages (`liblzo2 2.10`, `node:zlib`, ...); null for none. */
  compressor: string | null;
  /** The pfns this part holds, for a part of a split dump. */
  split?: PfnRange;
}

export function writeKdumpCompressed(vm: ElfVmcore, sink: Sink, opts: KdumpSaveOptions): KdumpSaveStats {
  const pageSize = Number(vm.vmcoreinfo?.pageSize ?? 4096) || 4096;
  const phys = new PhysMemory(vm, pageSize, opts.pread);
  const filter = opts.filter ?? planFilter(vm, phys, opts.level);
  const level = filter.level;
  for (const w of filter.warnings) opts.onWarning?.(w);
  if (level !== opts.level) {
    opts.onWarning?.(`applying level ${level} instead of ${opts.level}; the header records ${level}`);
  }
  const excluded = filter.exclusion?.excluded;
  const counts = filter.exclusion?.counts;
  const dumpable = phys.validPages - (counts ? Object.values(counts).reduce((a, b) => a + b, 0) : 0);
  const notes = copyNotes(vm);
  const layout = kdumpLayout(pageSize, notes.data.byteLength, phys.maxMapnr, dumpable);
  const status = COMPRESSION_FLAG[opts.compression];
  const header = (s: number) => encodeHeader(vm, layout, phys.maxMapnr, s);

  // A file says incomplete until the end rewrites the header; a stream writes it once (see Sink.stream)
  // and an interrupted one lacks the end record instead, as makedumpfile -F does.
  sink.pwrite(header(sink.stream ? status : status | DUMP_DH_COMPRESSED_INCOMPLETE), 0);
  const sub = new Uint8Array(layout.subHdrSize * pageSize);
  KdumpSubHeader.encode(
    {
      phys_base: BigInt.asUintN(64, vm.vmcoreinfo?.numbers['phys_base'] ?? 0n),
      dump_level: level,
      offset_vmcoreinfo: notes.vmcoreinfo ? BigInt(layout.offsetNote + notes.vmcoreinfo.at) : 0n,
      size_vmcoreinfo: BigInt(notes.vmcoreinfo?.size ?? 0),
      offset_note: BigInt(layout.offsetNote),
      size_note: BigInt(notes.data.byteLength),
      max_mapnr_64: BigInt(phys.maxMapnr),
      ...(opts.split
        ? {
            split: 1,
            // The 32-bit-era fields are capped at UINT_MAX, as makedumpfile writes them.
            start_pfn: BigInt(Math.min(opts.split.start, 0xffff_ffff)),
            end_pfn: BigInt(Math.min(opts.split.end, 0xffff_ffff)),
            start_pfn_64: BigInt(opts.split.start),
            end_pfn_64: BigInt(opts.split.end),
          }
        : {}),
    },
    sub,
  );
  sub.set(notes.data, layout.offsetNote - pageSize);
  sink.pwrite(sub, pageSize);
  writeBitmap(sink, phys, layout.bitmap1, layout.bitmapBytes);
  writeBitmap(sink, phys, layout.bitmap2, layout.bitmapBytes, excluded);

  const stats: KdumpSaveStats = {
    format: 'kdump',
    compression: opts.compression,
    levelRequested: opts.level,
    level,
    maxMapnr: phys.maxMapnr,
    verifiedKernel: filter.verifiedKernel ?? null,
    excluded: counts ?? null,
    dumpablePages: opts.split ? countKept(phys.ranges, excluded, opts.split.start, opts.split.end) : dumpable,
    zeroPages: 0,
    compressedPages: 0,
    rawPages: 0,
    bytes: 0,
    compressor: null,
    ...(opts.split ? { split: { ...opts.split } } : {}),
  };
  const descs = new Uint8Array(DESC_BATCH * PAGE_DESC_SIZE);
  const descView = new DataView(descs.buffer);
  let descCount = 0;
  let descPos = layout.descStart;
  const flushDescs = () => {
    sink.pwrite(descs.subarray(0, descCount * PAGE_DESC_SIZE), descPos);
    descPos += descCount * PAGE_DESC_SIZE;
    descCount = 0;
  };
  // page_desc: offset (u64), size (u32), flags (u32), page_flags (u64), little-endian. Offsets are
  // written as two u32 halves: a BigInt per page would be garbage the GC has to collect.
  const addDesc = (offset: number, size: number, flags: number) => {
    const at = descCount * PAGE_DESC_SIZE;
    descView.setUint32(at, offset % 2 ** 32, true);
    descView.setUint32(at + 4, Math.floor(offset / 2 ** 32), true);
    descView.setUint32(at + 8, size, true);
    descView.setUint32(at + 12, flags, true);
    descView.setUint32(at + 16, 0, true);
    descView.setUint32(at + 20, 0, true);
    if (++descCount === DESC_BATCH) flushDescs();
  };

  const compressor = openPageCompressor(opts.compression, pageSize);
  stats.compressor = compressor?.engine ?? null;
  const room = Math.max(pageSize, compressor?.bound ?? 0);
  const chunkBytes = Math.max(pageSize, opts.chunk ?? vm.reader.window ?? READ_CHUNK);
  // Without compression only the shared zero page passes through the buffer.
  const data = new Uint8Array(compressor ? Math.min(chunkBytes, OUT_BUFFER) + room : pageSize);
  let dataLen = 0;
  let dataPos = layout.dataStart;
  const flushData = () => {
    sink.pwrite(data.subarray(0, dataLen), dataPos);
    dataPos += dataLen;
    dataLen = 0;
  };
  const zero = Buffer.alloc(pageSize);
  let zeroOffset = -1;
  if (level & 1) {
    zeroOffset = dataPos;
    dataLen = pageSize; // data starts zeroed
  }
  // The loop allocates nothing per page: zero test, compression and raw copies work on offsets into
  // the source bytes (a view of the mmap window, or one read buffer) and one output buffer (steady RSS,
  // docs/kdump.md "Measured"). Without compression, each run of consecutive non-zero pages is written
  // straight from the source bytes with one pwrite (no copy through the output buffer).
  const chunkPages = Math.floor(chunkBytes / pageSize);
  let done = 0;
  try {
    phys.forEachRun(
      chunkPages,
      excluded,
      (_pfn, count, bytes) => {
        const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const words = zeroOffset >= 0 ? wordsOf(bytes) : undefined;
        let run = -1; // direct mode: where the raw pages not yet written start in src
        const endRun = (end: number) => {
          if (run < 0) return;
          if (dataLen > 0) flushData();
          sink.pwrite(src.subarray(run, end), dataPos);
          dataPos += end - run;
          run = -1;
        };
        for (let i = 0, off = 0; i < count; i++, off += pageSize) {
          if (zeroOffset >= 0 && isZeroPage(src, words, off, zero)) {
            endRun(off);
            stats.zeroPages++;
            addDesc(zeroOffset, pageSize, 0);
            continue;
          }
          if (!compressor) {
            if (run < 0) run = off;
            stats.rawPages++;
            addDesc(dataPos + dataLen + (off - run), pageSize, 0);
            continue;
          }
          if (dataLen + room > data.byteLength) flushData();
          const n = compressor.compressInto(src, off, data, dataLen);
          if (n > 0) {
            stats.compressedPages++;
            addDesc(dataPos + dataLen, n, status);
            dataLen += n;
          } else {
            stats.rawPages++;
            addDesc(dataPos + dataLen, pageSize, 0);
            src.copy(data, dataLen, off, off + pageSize);
            dataLen += pageSize;
          }
        }
        endRun(count * pageSize);
        done += count;
        opts.onProgress?.(done, stats.dumpablePages);
      },
      opts.split,
    );
  } finally {
    compressor?.close();
  }
  flushData();
  flushDescs();
  if (!sink.stream) sink.pwrite(header(status), 0);
  stats.bytes = dataPos;
  return stats;
}

/** Bitmap 1 from the pfn ranges; bitmap 2 is the same minus `excluded` (bit set = dropped). */
function writeBitmap(sink: Sink, phys: PhysMemory, at: number, size: number, excluded?: Uint8Array): void {
  const step = 1 << 20;
  for (let o = 0; o < size; o += step) {
    const slice = bitmapSlice(phys.ranges, o, Math.min(step, size - o));
    if (excluded) {
      for (let i = 0; i < slice.byteLength && o + i < excluded.byteLength; i++)
        slice[i]! &= ~excluded[o + i]!;
    }
    sink.pwrite(slice, at + o);
  }
}

function encodeHeader(vm: ElfVmcore, layout: KdumpLayout, maxMapnr: number, status: number): Uint8Array {
  const block = new Uint8Array(layout.blockSize);
  DiskDumpHeader.encode(
    {
      signature: KDUMP_SIGNATURE,
      header_version: KDUMP_HEADER_VERSION,
      utsname: utsname(vm),
      timestamp_sec: BigInt(vm.vmcoreinfo?.crashTime ?? 0),
      timestamp_usec: 0n,
      status,
      block_size: layout.blockSize,
      sub_hdr_size: layout.subHdrSize,
      bitmap_blocks: layout.bitmapBlocks,
      max_mapnr: Math.min(maxMapnr, 0xffff_ffff),
      nr_cpus: vm.notes.filter((n) => n.name === 'CORE' && n.type === NT_PRSTATUS).length,
    },
    block,
  );
  return block.subarray(0, Math.max(DISK_DUMP_HEADER_SIZE, layout.blockSize));
}

/** new_utsname from init_uts_ns in the dump (as makedumpfile does); else from VMCOREINFO and the ELF. */
function utsname(vm: ElfVmcore): Uint8Array {
  const info = vm.vmcoreinfo;
  const sym = info?.symbols['init_uts_ns'];
  if (sym !== undefined) {
    try {
      const raw = vm.readVirt(sym + BigInt(info?.offsets['uts_namespace.name'] ?? 0), 6 * UTS_LEN);
      if (raw[0] !== 0) return raw;
    } catch {}
  }
  const out = new Uint8Array(6 * UTS_LEN);
  const fallback: Record<(typeof UTS_FIELDS)[number], string> = {
    sysname: 'Linux',
    nodename: '',
    release: info?.osrelease ?? '',
    version: '',
    machine: vm.header.e_machine === EM_X86_64 ? 'x86_64' : (vm.arch ?? ''),
    domainname: '',
  };
  UTS_FIELDS.forEach((f, i) => {
    out.set(new TextEncoder().encode(fallback[f].slice(0, UTS_LEN - 1)), i * UTS_LEN);
  });
  return out;
}
