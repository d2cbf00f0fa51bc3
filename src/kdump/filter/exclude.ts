// The struct page pass: reads each present section's struct pages in one batch (through vmemmap) and
// marks excluded pfns in a bitmap, class by class as makedumpfile decides them (makedumpfile.c
// __exclude_unnecessary_pages; the page flags from the kernel's include/linux/page-flags.h). First match wins, in this order: compound tail
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
  const sp = rules.sizePage;
  const buf = new Uint8Array(BATCH_PAGES * sp + sp);
  const pass: Pass = {
    dv: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
    rules,
    masks: flagMasks(rules),
    level,
    ranges,
    maxMapnr,
    excluded: new Uint8Array(Math.ceil(maxMapnr / 8)),
    tally: [0, 0, 0, 0, 0, 0],
  };
  const sections = memMapSections(info, mem, maxMapnr, pageSize);
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
        try {
          mem.read(at, (n + extra) * sp, buf);
          have = n + extra;
        } catch {
          mem.read(at, n * sp, buf);
        }
        skipTo = classifyBatch(pass, start, n, have, skipTo, r.end);
      }
    }
  }
  const { excluded, tally } = pass;
  const counts = {} as Record<PageClass, number>;
  CLASSES.forEach((c, k) => {
    counts[c] = tally[k]!;
  });
  return { excluded, counts, sections: sections.length };
}

/** What the struct page pass keeps across batches (one object: the hot loop's arguments stay few). */
interface Pass {
  /** The batch buffer: struct page i of the batch at i * sizePage. */
  dv: DataView;
  rules: PageRules;
  masks: FlagMasks;
  level: number;
  ranges: readonly PfnRange[];
  maxMapnr: number;
  excluded: Uint8Array;
  /** Pages per class, indexed as CLASSES. */
  tally: number[];
}

/**
 * Classifies the batch's struct pages of pfns [start, start + n) from `skipTo` on and marks what is
 * excluded; returns the new skipTo (one past the last pfn an excluded block covered). pfns below
 * `rangeEnd` are in the current PT_LOAD range and are counted without a search. Kept apart from
 * excludePages so that V8 optimizes only this loop (with the whole pass in one function, its on-stack
 * replacement took ~60 ms of compile time on the lab's dump, more than the loop itself).
 */
function classifyBatch(
  pass: Pass,
  start: number,
  n: number,
  have: number,
  skipTo: number,
  rangeEnd: number,
): number {
  const { dv, rules, masks, level, excluded, tally, maxMapnr } = pass;
  for (let i = Math.max(0, skipTo - start); i < n; i++) {
    const got = verdictCode(dv, i, have, start + i, rules, masks, level);
    if (got === 0) continue;
    const pfn = start + i;
    const pages = 2 ** (got >>> CLASS_BITS);
    // Marks [pfn, pfn + pages).
    const to = Math.min(pfn + pages, maxMapnr);
    const cls = (got & CLASS_MASK) - 1;
    for (let p = pfn; p < to; p++) {
      const bit = 1 << (p & 7);
      if (excluded[p >> 3]! & bit) continue;
      excluded[p >> 3]! |= bit;
      if (p < rangeEnd || inRanges(pass.ranges, p)) tally[cls]!++;
    }
    skipTo = pfn + pages;
    i = skipTo - start - 1;
  }
  return skipTo;
}

function inRanges(ranges: readonly PfnRange[], pfn: number): boolean {
  for (const r of ranges) if (pfn >= r.start && pfn < r.end) return true;
  return false;
}

/** A flag bit as a mask on the low or high 32-bit half of page->flags (both 0: the kernel has no such flag). */
interface Mask {
  lo: number;
  hi: number;
}
const bitMask = (n: number | undefined): Mask =>
  n === undefined || n < 0 || n >= 64
    ? { lo: 0, hi: 0 }
    : n < 32
      ? { lo: (1 << n) | 0, hi: 0 }
      : { lo: 0, hi: (1 << (n - 32)) | 0 };

interface FlagMasks {
  head: Mask;
  slab: Mask;
  lru: Mask;
  swapbacked: Mask;
  swapcache: Mask;
  private: Mask;
  hwpoison: Mask;
}

/** The page->flags tests as 32-bit masks, computed once per dump: no BigInt or lookup per struct page. */
function flagMasks(r: PageRules): FlagMasks {
  const m = r.headMask ?? 0n;
  return {
    head: { lo: Number(m & 0xffff_ffffn) | 0, hi: Number((m >> 32n) & 0xffff_ffffn) | 0 },
    slab: bitMask(r.pgSlab),
    lru: bitMask(r.pgLru),
    swapbacked: bitMask(r.pgSwapbacked),
    swapcache: bitMask(r.pgSwapcache),
    private: bitMask(r.pgPrivate),
    hwpoison: bitMask(r.pgHwpoison),
  };
}
const has = (m: Mask, lo: number, hi: number) => ((lo & m.lo) | (hi & m.hi)) !== 0;

const CLASSES: readonly PageClass[] = ['cache', 'cachePrivate', 'user', 'free', 'hwpoison', 'offline'];
/** A verdict code: 0 = kept, else (class index + 1) | log2(pages) << CLASS_BITS. */
const CLASS_BITS = 3;
const CLASS_MASK = (1 << CLASS_BITS) - 1;
const CACHE = 1;
const CACHE_PRIVATE = 2;
const USER = 3;
const FREE = 4;
const HWPOISON = 5;
const OFFLINE = 6;

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
  const got = verdictCode(dv, i, have, pfn, r, flagMasks(r), level);
  return got === 0 ? undefined : { cls: CLASSES[(got & CLASS_MASK) - 1]!, pages: 2 ** (got >>> CLASS_BITS) };
}

/** classify() as a number (no object per struct page): 0 when kept. */
function verdictCode(
  dv: DataView,
  i: number,
  have: number,
  pfn: number,
  r: PageRules,
  m: FlagMasks,
  level: number,
): number {
  const base = i * r.sizePage;
  // A compound tail page (compound_head bit 0) was excluded with its head, or is kept with it.
  if (r.compoundHead !== undefined && (dv.getUint32(base + r.compoundHead, true) & 1) === 1) return 0;
  const flagsLo = dv.getUint32(base + r.flags, true);
  const flagsHi = dv.getUint32(base + r.flags + 4, true);
  const mapping = dv.getUint32(base + r.mapping, true);
  const mapcount = r.mapcount === undefined ? 0 : dv.getInt32(base + r.mapcount, true);

  let order = 0;
  let hugetlb = false;
  if (i + 1 < have && has(m.head, flagsLo, flagsHi)) {
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
      const dtor = r.compoundDtor === undefined ? 0 : dv.getUint8(tail + r.compoundDtor);
      hugetlb = r.hugetlbDtor !== undefined && dtor === r.hugetlbDtor;
    }
    // An order that does not fit, or is not aligned to the pfn, is not trusted.
    if (order >= 64 || pfn % 2 ** order !== 0) order = 0;
  }

  const slab = has(m.slab, flagsLo, flagsHi) || (r.slabMapcount !== undefined && mapcount === r.slabMapcount);
  if (level & DL_FREE && r.buddy !== undefined && !slab && mapcount === r.buddy) {
    const privLo = r.private === undefined ? 0 : dv.getUint32(base + r.private, true);
    const privHi = r.private === undefined ? 0 : dv.getUint32(base + r.private + 4, true);
    const bad =
      privHi !== 0 || privLo >= 32 || (r.freeAreaLength !== undefined && privLo >= r.freeAreaLength);
    return bad ? 0 : FREE | (privLo << CLASS_BITS);
  }
  // A slab page is never anon: from 6.2 slab.slabs overlays page.mapping and can be odd (makedumpfile
  // 5f17bdd, isAnon); from 6.10 slab is a page type (PAGE_SLAB_MAPCOUNT_VALUE, bad2a7c).
  const anon = (mapping & PAGE_MAPPING_ANON) !== 0 && !slab;
  const cache =
    has(m.lru, flagsLo, flagsHi) ||
    ((r.pgSwapbacked === undefined || has(m.swapbacked, flagsLo, flagsHi)) &&
      has(m.swapcache, flagsLo, flagsHi));
  const priv = has(m.private, flagsLo, flagsHi);
  const log2 = order << CLASS_BITS;
  if (level & DL_CACHE && cache && !priv && !anon) return CACHE | log2;
  if (level & DL_CACHE_PRIVATE && cache && !anon) return (priv ? CACHE_PRIVATE : CACHE) | log2;
  if (level & DL_USER && (anon || hugetlb)) return USER | log2;
  if (has(m.hwpoison, flagsLo, flagsHi)) return HWPOISON | log2;
  if (r.offline !== undefined && !slab && mapcount === r.offline) return OFFLINE | log2;
  return 0;
}
