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
  ): void {
    const ps = this.pageSize;
    let scratch: Uint8Array | undefined;
    const copy = (pfn: number, n: number) => {
      scratch ??= new Uint8Array(chunkPages * ps);
      fn(pfn, n, this.readPages(pfn, n, scratch));
    };
    const reader = this.vm.reader;
    const win = reader.window;
    for (const c of this.chunks(chunkPages, excluded)) {
      for (let pfn = c.pfn, left = c.count; left > 0; ) {
        const at = this.storedRun(pfn, left);
        let n = at ? at.pages : left;
        if (at && win) n = Math.min(n, Math.floor((win - (at.offset % win)) / ps));
        if (n === 0) n = 1; // the page straddles two windows: copied
        if (!at || !reader.borrow?.(at.offset, n * ps, (bytes) => fn(pfn, n, bytes))) copy(pfn, n);
        pfn += n;
        left -= n;
      }
    }
  }

  /**
   * Where pages from `pfn` lie in the file when exactly one segment holds the first of them and stores
   * its bytes: the file offset and how many of the `count` pages follow contiguously in that segment
   * (up to its p_filesz and to the next segment's start). Undefined when readPages must assemble them.
   */
  storedRun(pfn: number, count: number): { offset: number; pages: number } | undefined {
    const ps = BigInt(this.pageSize);
    const lo = BigInt(pfn) * ps;
    let hi = lo + BigInt(count) * ps;
    let owner: LoadSegment | undefined;
    for (const s of this.segments) {
      if (s.paddr <= lo && lo < s.paddr + s.memsz) {
        if (owner) return undefined; // overlapping segments: readPages decides byte by byte
        owner = s;
      } else if (s.paddr > lo && s.paddr < hi) hi = s.paddr;
    }
    if (!owner) return undefined;
    const stored = owner.paddr + owner.filesz;
    if (stored < hi) hi = stored;
    const pages = hi > lo ? Number((hi - lo) / ps) : 0;
    if (pages === 0) return undefined;
    return { offset: Number(owner.offset + (lo - owner.paddr)), pages };
  }

  /** Runs of valid pfns, not in `excluded` (bit set = skip), of at most `chunkPages`, ascending. */
  *chunks(chunkPages: number, excluded?: Uint8Array): Generator<{ pfn: number; count: number }> {
    const skip = (p: number) => excluded !== undefined && ((excluded[p >> 3] ?? 0) & (1 << (p & 7))) !== 0;
    for (const r of this.ranges) {
      for (let p = r.start; p < r.end; ) {
        if (skip(p)) {
          // Eight excluded pfns at once where a whole bitmap byte is set (most of a -d 31 dump).
          p = (p & 7) === 0 && excluded?.[p >> 3] === 0xff ? p + 8 : p + 1;
          continue;
        }
        let n = 1;
        while (n < chunkPages && p + n < r.end && !skip(p + n)) n++;
        yield { pfn: p, count: n };
        p += n;
      }
    }
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
