// Physical memory of an ELF vmcore as page frames: which pfns exist (the "valid" bitmap: inside a
// PT_LOAD's [p_paddr, p_paddr + p_memsz)) and their bytes, read in large chunks. The x86_64 kernel-text
// PT_LOAD repeats RAM that a direct-map PT_LOAD already covers, so a segment wholly covered by others is
// dropped. Bytes past p_filesz read as zero, as in /proc/vmcore.
import { FormatError } from '../../errors.js';
import type { ElfVmcore, LoadSegment } from '../vmcore-elf.js';

export interface PfnRange {
  start: number;
  /** One past the last pfn. */
  end: number;
}

export class PhysMemory {
  readonly segments: LoadSegment[];
  /** The segments' addresses as numbers (x86_64 physical addresses have at most 52 bits): no BigInt per run. */
  private readonly spans: { paddr: number; memEnd: number; fileEnd: number; offset: number }[];
  /** Sorted, merged ranges of valid pfns. */
  readonly ranges: PfnRange[];
  readonly maxMapnr: number;
  readonly validPages: number;

  /** `pread`, when given, reads file bytes into a caller's buffer (no allocation per chunk). */
  constructor(
    readonly vm: ElfVmcore,
    readonly pageSize: number,
    private readonly pread?: (into: Uint8Array, offset: number) => void,
  ) {
    const all = [...vm.loads].filter((s) => s.memsz > 0n).sort((a, b) => Number(a.paddr - b.paddr));
    this.segments = all.filter((s, i) => !coveredByOthers(s, all, i));
    this.spans = this.segments.map((s) => {
      const span = {
        paddr: Number(s.paddr),
        memEnd: Number(s.paddr + s.memsz),
        fileEnd: Number(s.paddr + s.filesz),
        offset: Number(s.offset),
      };
      if (!Number.isSafeInteger(span.memEnd) || !Number.isSafeInteger(span.offset + Number(s.filesz))) {
        throw new FormatError(`PT_LOAD at 0x${s.paddr.toString(16)} lies beyond 2^53`, 'vmcore');
      }
      return span;
    });
    const ps = BigInt(pageSize);
    const raw = this.segments.map((s) => ({
      start: Number(s.paddr / ps),
      end: Number((s.paddr + s.memsz + ps - 1n) / ps),
    }));
    this.ranges = [];
    for (const r of raw.sort((a, b) => a.start - b.start)) {
      const last = this.ranges.at(-1);
      if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else this.ranges.push({ ...r });
    }
    this.maxMapnr = this.ranges.at(-1)?.end ?? 0;
    this.validPages = this.ranges.reduce((n, r) => n + r.end - r.start, 0);
    if (this.validPages === 0) {
      throw new FormatError('the vmcore has no PT_LOAD with memory', 'vmcore', undefined, {
        hint: 'is this a kdump /proc/vmcore or a copy of it?',
      });
    }
  }

  /** `count` pages from `pfn`, zero where no segment stores bytes. */
  readPages(pfn: number, count: number, into?: Uint8Array): Uint8Array {
    const len = count * this.pageSize;
    const out = into && into.byteLength >= len ? into.subarray(0, len) : new Uint8Array(len);
    const lo = BigInt(pfn) * BigInt(this.pageSize);
    const hi = lo + BigInt(len);
    // Zeroed first unless one segment stores every byte (the usual chunk): the reads overwrite it all.
    if (!this.segments.some((s) => s.paddr <= lo && s.paddr + s.filesz >= hi)) out.fill(0);
    for (const s of this.segments) {
      const from = s.paddr > lo ? s.paddr : lo;
      const stored = s.paddr + s.filesz;
      const to = stored < hi ? stored : hi;
      if (from >= to) continue;
      const at = Number(s.offset + (from - s.paddr));
      const dst = out.subarray(Number(from - lo), Number(to - lo));
      if (this.pread) this.pread(dst, at);
      else if (this.vm.reader.readInto)
        this.vm.reader.readInto(dst, at); // no array per chunk
      else dst.set(this.vm.reader.read(at, dst.byteLength));
    }
    return out;
  }

  /**
   * Calls `fn` with the bytes of the valid pfns not in `excluded`, in ascending runs of at most
   * `chunkPages`. A run that one segment stores whole is cut where the reader's mmap windows end and
   * borrowed from the window (no copy: `bytes` is valid only during `fn`); other runs are read into a
   * scratch buffer, allocated on first need, exactly as readPages reads them.
   */
  forEachRun(
    chunkPages: number,
    excluded: Uint8Array | undefined,
    fn: (pfn: number, count: number, bytes: Uint8Array) => void,
    within?: PfnRange,
  ): void {
    const ps = this.pageSize;
    let scratch: Uint8Array | undefined;
    const reader = this.vm.reader;
    const win = reader.window;
    const emit = (pfn: number, count: number) => {
      for (let left = count; left > 0; ) {
        const at = this.storedRun(pfn, left);
        let n = at ? at.pages : left;
        if (at && win) n = Math.min(n, Math.floor((win - (at.offset % win)) / ps));
        if (n === 0) n = 1; // the page straddles two windows: copied
        const from = pfn;
        const k = n;
        if (!at || !reader.borrow?.(at.offset, n * ps, (bytes) => fn(from, k, bytes))) {
          scratch ??= new Uint8Array(chunkPages * ps);
          fn(pfn, n, this.readPages(pfn, n, scratch));
        }
        pfn += n;
        left -= n;
      }
    };
    const ex = excluded ?? new Uint8Array(0);
    for (const r of this.ranges) {
      const start = within ? Math.max(r.start, within.start) : r.start;
      const end = within ? Math.min(r.end, within.end) : r.end;
      if (start < end) runsOf(start, end, ex, chunkPages, emit);
    }
  }

  /**
   * Where pages from `pfn` lie in the file when exactly one segment holds the first of them and stores
   * its bytes: the file offset and how many of the `count` pages follow contiguously in that segment
   * (up to its p_filesz and to the next segment's start). Undefined when readPages must assemble them.
   */
  storedRun(pfn: number, count: number): { offset: number; pages: number } | undefined {
    const ps = this.pageSize;
    const lo = pfn * ps;
    let hi = lo + count * ps;
    let owner: { paddr: number; fileEnd: number; offset: number } | undefined;
    for (const s of this.spans) {
      if (s.paddr <= lo && lo < s.memEnd) {
        if (owner) return undefined; // overlapping segments: readPages decides byte by byte
        owner = s;
      } else if (s.paddr > lo && s.paddr < hi) hi = s.paddr;
    }
    if (!owner) return undefined;
    if (owner.fileEnd < hi) hi = owner.fileEnd;
    const pages = hi > lo ? Math.floor((hi - lo) / ps) : 0;
    if (pages === 0) return undefined;
    return { offset: owner.offset + (lo - owner.paddr), pages };
  }
}

/**
 * Calls `emit` with the runs of pfns in [start, end) not set in `excluded` (bit set = skip; pfns past
 * it are kept), each of at most `chunkPages`, ascending. A bitmap byte with all eight bits equal is
 * taken at once (most of a filtered dump is whole excluded bytes, most of an unfiltered one whole kept
 * bytes).
 */
function runsOf(
  start: number,
  end: number,
  excluded: Uint8Array,
  chunkPages: number,
  emit: (pfn: number, count: number) => void,
): void {
  for (let p = start; p < end; ) {
    const b = excluded[p >> 3] ?? 0;
    if (b & (1 << (p & 7))) {
      p = (p & 7) === 0 && b === 0xff ? p + 8 : p + 1;
      continue;
    }
    let n = 1;
    while (n < chunkPages && p + n < end) {
      const q = p + n;
      const c = excluded[q >> 3] ?? 0;
      if ((q & 7) === 0 && c === 0 && n + 8 <= chunkPages && q + 8 <= end) n += 8;
      else if (c & (1 << (q & 7))) break;
      else n++;
    }
    emit(p, n);
    p += n;
  }
}

function coveredByOthers(s: LoadSegment, all: LoadSegment[], self: number): boolean {
  let at = s.paddr;
  const end = s.paddr + s.memsz;
  let moved = true;
  while (at < end && moved) {
    moved = false;
    for (let i = 0; i < all.length; i++) {
      const o = all[i]!;
      if (i === self || coveredByOthersDropped(o, all, i, self)) continue;
      if (o.paddr <= at && at < o.paddr + o.memsz) {
        at = o.paddr + o.memsz;
        moved = true;
      }
    }
  }
  return at >= end;
}

/** Of two identical segments, keep the first: the later one counts as covered, the earlier does not. */
function coveredByOthersDropped(o: LoadSegment, all: LoadSegment[], i: number, self: number): boolean {
  const s = all[self]!;
  return i > self && o.paddr === s.paddr && o.memsz === s.memsz;
}

/** Valid pfns in [start, end) not set in `excluded` (bit set = dropped): what bitmap 2 holds there. */
export function countKept(
  ranges: readonly PfnRange[],
  excluded: Uint8Array | undefined,
  start: number,
  end: number,
): number {
  let n = 0;
  for (const r of ranges) {
    const a = Math.max(r.start, start);
    const b = Math.min(r.end, end);
    for (let p = a; p < b; p++) {
      if (!excluded || !(((excluded[p >> 3] ?? 0) >> (p & 7)) & 1)) n++;
    }
  }
  return n;
}

/** Bitmap bytes [byteStart, byteStart + n) for the given sorted ranges (bit pfn&7 of byte pfn>>3). */
export function bitmapSlice(ranges: readonly PfnRange[], byteStart: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const lo = byteStart * 8;
  const hi = lo + n * 8;
  for (const r of ranges) {
    const a = Math.max(r.start, lo);
    const b = Math.min(r.end, hi);
    for (let p = a; p < b; ) {
      if ((p & 7) === 0 && p + 8 <= b) {
        const end8 = b - ((b - p) & 7);
        out.fill(0xff, (p - lo) >> 3, (end8 - lo) >> 3);
        p = end8;
      } else {
        out[(p - lo) >> 3]! |= 1 << (p & 7);
        p++;
      }
    }
  }
  return out;
}
