// The struct page pass: reads each present section's struct pages in one batch (through vmemmap) and
// marks excluded pfns in a bitmap, class by class as makedumpfile decides them (makedumpfile.c
// __exclude_unnecessary_pages, research kdump.md §3.1). First match wins, in this order: compound tail
// (skipped: its head decides), free (buddy, 2^private pages), cache without private, cache incl.
// private, user (anon mapping or hugetlb), hwpoison, offline. An excluded compound head excludes its
// whole compound (2^order pages, order from the first tail page).
import type { PfnRange } from '../save/phys.js';
import type { Vmcoreinfo } from '../vmcoreinfo.js';
import type { X86_64PageTables } from '../x86-64-pagetable.js';
import { memMapSections } from './memmap.js';
import { DL_CACHE, DL_CACHE_PRIVATE, DL_FREE, DL_USER, type PageRules } from './rules.js';

/** PAGE_MAPPING_ANON (include/linux/page-flags.h): bit 0 of page->mapping. */
const PAGE_MAPPING_ANON = 1;
/** Struct pages read per batch at most (a 128 MiB section of 4 KiB pages is 32768 of them). */
const BATCH_PAGES = 32768;

export type PageClass = 'cache' | 'cachePrivate' | 'user' | 'free' | 'hwpoison' | 'offline';

export interface Exclusion {
  /** Bit pfn set = excluded (same bit order as the kdump bitmaps). maxMapnr bits. */
  excluded: Uint8Array;
  /** Pages excluded per class (only pfns in a PT_LOAD are counted). */
  counts: Record<PageClass, number>;
  sections: number;
}

export function excludePages(
  mem: X86_64PageTables,
  info: Vmcoreinfo,
  rules: PageRules,
  level: number,
  ranges: readonly PfnRange[],
  maxMapnr: number,
  pageSize: number,
): Exclusion {
  const excluded = new Uint8Array(Math.ceil(maxMapnr / 8));
  const counts: Record<PageClass, number> = {
    cache: 0,
    cachePrivate: 0,
    user: 0,
    free: 0,
    hwpoison: 0,
    offline: 0,
  };
  const valid = (pfn: number) => ranges.some((r) => pfn >= r.start && pfn < r.end);
  /** Marks [from, from + n); pfns before `inRangeEnd` are known to be in a PT_LOAD (counted directly). */
  const mark = (cls: PageClass, from: number, n: number, inRangeEnd: number) => {
    const to = Math.min(from + n, maxMapnr);
    for (let p = from; p < to; p++) {
      const bit = 1 << (p & 7);
      if (excluded[p >> 3]! & bit) continue;
      excluded[p >> 3]! |= bit;
      if (p < inRangeEnd || valid(p)) counts[cls]++;
    }
  };
  const sections = memMapSections(info, mem, maxMapnr, pageSize);
  const sp = rules.sizePage;
  const buf = new Uint8Array(BATCH_PAGES * sp + sp);
  let skipTo = 0;
  for (const s of sections) {
    // Only pfns inside a PT_LOAD are examined (makedumpfile's is_in_segs); read their struct pages at once.
    for (const r of ranges) {
      const lo = Math.max(r.start, s.pfnStart, skipTo);
      const hi = Math.min(r.end, s.pfnEnd);
      for (let start = lo; start < hi; start += BATCH_PAGES) {
        const n = Math.min(BATCH_PAGES, hi - start);
        // One more struct page when it is in the section: a head's order is in its first tail.
        const extra = start + n < s.pfnEnd ? 1 : 0;
        const at = s.memMap + BigInt((start - s.pfnStart) * sp);
        let have = n;
        let data: Uint8Array;
        try {
          data = mem.read(at, (n + extra) * sp, buf);
          have = n + extra;
        } catch {
          data = mem.read(at, n * sp, buf);
        }
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        for (let i = 0; i < n; i++) {
          const pfn = start + i;
          if (pfn < skipTo) continue;
          const got = classify(dv, i, have, pfn, rules, level);
          if (!got) continue;
          mark(got.cls, pfn, got.pages, r.end);
          skipTo = pfn + got.pages;
        }
      }
    }
  }
  return { excluded, counts, sections: sections.length };
}

/** Flag bit `n` of the two 32-bit halves of page->flags (false when the kernel has no such flag). */
function flagBit(lo: number, hi: number, n: number | undefined): boolean {
  return n !== undefined && (n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1) === 1;
}
/** PG_head_mask as two 32-bit halves, converted once per mask (not per page). */
let headMask: bigint | undefined;
let headLo = 0;
let headHi = 0;
function isHead(mask: bigint, lo: number, hi: number): boolean {
  if (mask !== headMask) {
    headMask = mask;
    headLo = Number(mask & 0xffff_ffffn) | 0;
    headHi = Number((mask >> 32n) & 0xffff_ffffn) | 0;
  }
  return ((lo & headLo) | (hi & headHi)) !== 0;
}

interface Verdict {
  cls: PageClass;
  pages: number;
}

/** The class of struct page `i` in the batch (pfn `pfn`), or undefined when it is kept. */
export function classify(
  dv: DataView,
  i: number,
  have: number,
  pfn: number,
  r: PageRules,
  level: number,
): Verdict | undefined {
  const base = i * r.sizePage;
  const flagsLo = dv.getUint32(base + r.flags, true);
  const flagsHi = dv.getUint32(base + r.flags + 4, true);
  const mapping = dv.getUint32(base + r.mapping, true);
  const mapcount = r.mapcount === undefined ? 0 : dv.getInt32(base + r.mapcount, true);
  const privLo = r.private === undefined ? 0 : dv.getUint32(base + r.private, true);
  const privHi = r.private === undefined ? 0 : dv.getUint32(base + r.private + 4, true);

  let order = 0;
  let dtor = 0;
  let hugetlb = false;
  // PG_head_mask split in 32-bit halves: a BigInt per struct page would be garbage (RSS, docs/kdump.md).
  const head = r.headMask !== undefined && isHead(r.headMask, flagsLo, flagsHi);
  if (head && i + 1 < have) {
    const tail = base + r.sizePage;
    if (r.hugetlbMapcount !== undefined || r.pgHugetlb !== undefined) {
      // 6.6+: the order is the low byte of folio._flags_1, the first tail page's flags word; hugetlb is
      // PG_hugetlb there (6.6-6.8) or the head's page type (6.9+) (makedumpfile 9661c1d, 985e575, 72c3414).
      order = dv.getUint8(tail + r.flags);
      const f1Lo = dv.getUint32(tail + r.flags, true);
      const f1Hi = dv.getUint32(tail + r.flags + 4, true);
      const h = r.pgHugetlb;
      hugetlb =
        (r.hugetlbMapcount !== undefined && mapcount === r.hugetlbMapcount) ||
        (h !== undefined && ((h < 32 ? f1Lo >>> h : f1Hi >>> (h - 32)) & 1) === 1);
    } else {
      if (r.compoundOrder !== undefined) order = dv.getUint8(tail + r.compoundOrder);
      if (r.compoundDtor !== undefined) dtor = dv.getUint8(tail + r.compoundDtor);
      hugetlb = r.hugetlbDtor !== undefined && dtor === r.hugetlbDtor;
    }
    // An order that does not fit, or is not aligned to the pfn, is not trusted.
    if (order >= 64 || pfn % 2 ** order !== 0) order = 0;
  }
  // A compound tail page (compound_head bit 0) was excluded with its head, or is kept with it.
  if (r.compoundHead !== undefined && (dv.getUint32(base + r.compoundHead, true) & 1) === 1) return undefined;

  const slab =
    flagBit(flagsLo, flagsHi, r.pgSlab) || (r.slabMapcount !== undefined && mapcount === r.slabMapcount);
  // A slab page is never anon: from 6.2 slab.slabs overlays page.mapping and can be odd (makedumpfile
  // 5f17bdd, isAnon); from 6.10 slab is a page type (PAGE_SLAB_MAPCOUNT_VALUE, bad2a7c).
  const anon = (mapping & PAGE_MAPPING_ANON) !== 0 && !slab;
  const cache =
    flagBit(flagsLo, flagsHi, r.pgLru) ||
    ((r.pgSwapbacked === undefined || flagBit(flagsLo, flagsHi, r.pgSwapbacked)) &&
      flagBit(flagsLo, flagsHi, r.pgSwapcache));
  const priv = flagBit(flagsLo, flagsHi, r.pgPrivate);
  const pages = 2 ** order;

  if (level & DL_FREE && r.buddy !== undefined && !slab && mapcount === r.buddy) {
    const bad =
      privHi !== 0 || privLo >= 32 || (r.freeAreaLength !== undefined && privLo >= r.freeAreaLength);
    return bad ? undefined : { cls: 'free', pages: 2 ** privLo };
  }
  if (level & DL_CACHE && cache && !priv && !anon) return { cls: 'cache', pages };
  if (level & DL_CACHE_PRIVATE && cache && !anon) return { cls: priv ? 'cachePrivate' : 'cache', pages };
  if (level & DL_USER && (anon || hugetlb)) {
    return { cls: 'user', pages };
  }
  if (flagBit(flagsLo, flagsHi, r.pgHwpoison)) return { cls: 'hwpoison', pages };
  if (r.offline !== undefined && !slab && mapcount === r.offline) return { cls: 'offline', pages };
  return undefined;
}
