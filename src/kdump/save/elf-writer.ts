// `vmcore save -E -d LEVEL`: a filtered ELF vmcore laid out as makedumpfile writes one (makedumpfile.c
// write_elf_header and write_elf_pages_cyclic): one PT_NOTE first (all notes verbatim), then
// each input PT_LOAD in order, split where 256 or more consecutive pages are excluded. Shorter excluded
// runs are written with their real bytes (a split costs a header and would fragment the file); excluded
// pages at the end of a piece stay in p_memsz beyond p_filesz, so readers see them as absent, not as
// data. p_vaddr advances with p_paddr (vmcore-dmesg needs it). For the ELF form zero pages (bit 1) must
// be known before the headers are written, so they are found in a first read of the dumpable pages, as
// makedumpfile does.
import { LimitError } from '../../errors.js';
import { encodeElfHeader } from '../../formats/elf/ehdr.js';
import { type ElfPhdr, encodeProgramHeaders, PT_LOAD, PT_NOTE } from '../../formats/elf/phdr.js';
import { type PageClass, planFilter } from '../filter/index.js';
import type { ElfVmcore, LoadSegment } from '../vmcore-elf.js';
import { copyNotes, READ_CHUNK } from './notes.js';
import { PhysMemory } from './phys.js';
import type { Sink } from './sink.js';
import { isZeroPage, wordsOf } from './zero-page.js';

/** makedumpfile.h PFN_EXCLUDED: runs at least this long split a PT_LOAD. */
export const PFN_EXCLUDED = 256;
const EHDR = 64;
const PHDR = 56;
/** PN_XNUM (gABI): more program headers need the section-0 escape, which we do not write. */
const MAX_PHNUM = 0xfffe;

export interface ElfFilterOptions {
  level: number;
  chunk?: number;
  onWarning?: (message: string) => void;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface ElfFilterStats {
  format: 'elf';
  levelRequested: number;
  level: number;
  verifiedKernel: string | null;
  excluded: Record<PageClass, number> | null;
  zeroPages: number;
  loads: number;
  bytes: number;
}

interface Piece {
  seg: LoadSegment;
  paddr: bigint;
  memsz: number;
  filesz: number;
}

export function writeFilteredElf(vm: ElfVmcore, sink: Sink, opts: ElfFilterOptions): ElfFilterStats {
  const pageSize = Number(vm.vmcoreinfo?.pageSize ?? 4096) || 4096;
  const phys = new PhysMemory(vm, pageSize);
  const filter = planFilter(vm, phys, opts.level);
  for (const w of filter.warnings) opts.onWarning?.(w);
  if (filter.level !== opts.level) {
    opts.onWarning?.(`applying level ${filter.level} instead of ${opts.level}`);
  }
  const excluded = filter.exclusion?.excluded.slice() ?? new Uint8Array(Math.ceil(phys.maxMapnr / 8));
  const chunkPages = Math.max(1, Math.floor((opts.chunk ?? vm.reader.window ?? READ_CHUNK) / pageSize));
  let zeroPages = 0;
  if (filter.level & 1) {
    const zero = Buffer.alloc(pageSize);
    phys.forEachRun(chunkPages, excluded, (pfn, count, bytes) => {
      const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const words = wordsOf(bytes);
      for (let i = 0, off = 0; i < count; i++, off += pageSize) {
        if (isZeroPage(src, words, off, zero)) {
          excluded[(pfn + i) >> 3]! |= 1 << ((pfn + i) & 7);
          zeroPages++;
        }
      }
    });
  }
  const pieces = vm.loads.flatMap((s) => split(s, pageSize, excluded));
  if (pieces.length + 1 > MAX_PHNUM) {
    throw new LimitError(
      `${pieces.length} PT_LOADs after filtering: more than ${MAX_PHNUM - 1}`,
      'elf',
      undefined,
      {
        hint: 'use a kdump-compressed output (-c, -l, -p, -z or --kdump), which has no such limit',
      },
    );
  }
  const notes = copyNotes(vm).data;
  const noteOff = EHDR + (pieces.length + 1) * PHDR;
  let off = noteOff + notes.byteLength;
  const phdrs: ElfPhdr[] = [
    {
      p_type: PT_NOTE,
      p_flags: 0,
      p_offset: BigInt(noteOff),
      p_vaddr: 0n,
      p_paddr: 0n,
      p_filesz: BigInt(notes.byteLength),
      p_memsz: BigInt(notes.byteLength),
      p_align: 0n,
    },
  ];
  const total = pieces.reduce((n, p) => n + p.filesz, off);
  const copy = new SegmentCopy(vm, sink, chunkPages * pageSize);
  for (const p of pieces) {
    const delta = p.paddr - p.seg.paddr;
    phdrs.push({
      p_type: PT_LOAD,
      p_flags: vm.phdrs[p.seg.index]?.p_flags ?? 7,
      p_offset: p.filesz ? BigInt(off) : 0n,
      p_vaddr: p.seg.vaddr === 0n ? 0n : BigInt.asUintN(64, p.seg.vaddr + delta),
      p_paddr: p.paddr,
      p_filesz: BigInt(p.filesz),
      p_memsz: BigInt(p.memsz),
      p_align: 0n,
    });
    copy.write(p.seg, Number(delta), p.filesz, off, (end) => opts.onProgress?.(end, total));
    off += p.filesz;
  }
  sink.pwrite(notes, noteOff);
  const header = { ...vm.header, e_phoff: BigInt(EHDR), e_shoff: 0n, e_phnum: phdrs.length, e_flags: 0 };
  const head = new Uint8Array(noteOff);
  encodeElfHeader({ ...header, e_shnum: 0, e_shstrndx: 0, e_shentsize: 0 }, head);
  encodeProgramHeaders(phdrs, header, head);
  sink.pwrite(head, 0);
  return {
    format: 'elf',
    levelRequested: opts.level,
    level: filter.level,
    verifiedKernel: filter.verifiedKernel ?? null,
    excluded: filter.exclusion?.counts ?? null,
    zeroPages,
    loads: pieces.length,
    bytes: off,
  };
}

/**
 * One input PT_LOAD cut where >= PFN_EXCLUDED consecutive pages are excluded (makedumpfile's rule).
 * `excluded` is the bitmap of excluded pfns (bit pfn & 7 of byte pfn >> 3; pfns past it are kept).
 * Addresses are numbers here: physical addresses have at most 52 bits (x86_64 MAXPHYADDR), and a
 * BigInt per page was garbage for the GC on a 1.3 GB dump.
 */
export function split(s: LoadSegment, pageSize: number, excluded: Uint8Array): Piece[] {
  const start = Number(s.paddr);
  const end = start + Number(s.memsz);
  if (!Number.isSafeInteger(end))
    throw new LimitError(`PT_LOAD at 0x${s.paddr.toString(16)}: beyond 2^53`, 'vmcore');
  const out: Piece[] = [];
  let cur: Piece = { seg: s, paddr: s.paddr, memsz: 0, filesz: 0 };
  let run = 0;
  const eight = 8 * pageSize;
  for (let a = start; a < end; ) {
    const pfn = Math.floor(a / pageSize);
    const byte = excluded[pfn >> 3] ?? 0;
    // Eight whole pages of one bitmap byte at once (most of a filtered dump): all excluded, or all
    // kept with no excluded run before them; either adds to the piece exactly as eight single pages.
    if (
      (pfn & 7) === 0 &&
      a === pfn * pageSize &&
      a + eight <= end &&
      (byte === 0xff || (byte === 0 && run === 0))
    ) {
      cur.memsz += eight;
      if (byte === 0xff) run += 8;
      else cur.filesz = cur.memsz;
      a += eight;
      continue;
    }
    const b = Math.min((pfn + 1) * pageSize, end);
    const len = b - a;
    if (byte & (1 << (pfn & 7))) {
      run++;
      cur.memsz += len;
    } else if (run >= PFN_EXCLUDED) {
      out.push(cur);
      cur = { seg: s, paddr: BigInt(a), memsz: len, filesz: len };
      run = 0;
    } else {
      cur.memsz += len;
      cur.filesz = cur.memsz; // a short excluded run is written as data
      run = 0;
    }
    a = b;
  }
  out.push(cur);
  return out;
}

/**
 * Writes bytes [at, at + n) of a segment to the sink at `outOff`, zero beyond p_filesz (as /proc/vmcore
 * reads them). Stored bytes go to the sink straight from the reader's mmap window, one pwrite per
 * window; without a window they are read into a buffer of `chunk` bytes, allocated on first need.
 */
class SegmentCopy {
  private buf: Uint8Array | undefined;
  private zero: Uint8Array | undefined;

  constructor(
    private readonly vm: ElfVmcore,
    private readonly sink: Sink,
    private readonly chunk: number,
  ) {}

  write(s: LoadSegment, at: number, n: number, outOff: number, progress: (end: number) => void): void {
    const reader = this.vm.reader;
    const win = reader.window;
    const stored = Math.max(0, Math.min(n, Number(s.filesz) - at));
    for (let done = 0; done < n; ) {
      const from = Number(s.offset) + at + done;
      let len: number;
      if (done >= stored) {
        this.zero ??= new Uint8Array(this.chunk);
        len = Math.min(this.chunk, n - done);
        this.sink.pwrite(this.zero.subarray(0, len), outOff + done);
      } else {
        const out = outOff + done;
        len = Math.min(stored - done, win ? win - (from % win) : this.chunk);
        if (!reader.borrow?.(from, len, (bytes) => this.sink.pwrite(bytes, out))) {
          len = Math.min(len, this.chunk);
          this.buf ??= new Uint8Array(this.chunk);
          const part = this.buf.subarray(0, len);
          if (reader.readInto) reader.readInto(part, from);
          else part.set(reader.read(from, len));
          this.sink.pwrite(part, out);
        }
      }
      done += len;
      progress(outOff + done);
    }
  }
}
