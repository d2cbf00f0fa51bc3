// Which dump-level bits can be applied to a given crashed kernel, and the struct page facts the
// classifier needs, all from VMCOREINFO. The page-type rules changed in 6.3, 6.6, 6.9, 6.10, 6.12, 6.16
// and 7.1 (makedumpfile.c __exclude_unnecessary_pages, commits 9661c1d, 985e575, bad2a7c, 72c3414, c1a9301), and
// a wrong exclusion leaves a dump crash cannot open. So all classes are applied only on kernels whose
// layout was checked page for page against makedumpfile (VERIFIED_KERNELS); any other kernel gets the
// conservative level 17 (zero + free, identified by the kernel's own PAGE_BUDDY_MAPCOUNT_VALUE), or 1.
import { need, type Vmcoreinfo } from '../vmcoreinfo.js';

/** makedumpfile's dump-level bits (makedumpfile.h DL_EXCLUDE_*). */
export const DL_ZERO = 1;
export const DL_CACHE = 2;
export const DL_CACHE_PRIVATE = 4;
export const DL_USER = 8;
export const DL_FREE = 16;
export const STRUCT_PAGE_BITS = DL_CACHE | DL_CACHE_PRIVATE | DL_USER | DL_FREE;

export interface VerifiedKernel {
  /** OSRELEASE major.minor. */
  release: string;
  layout: string;
  proof: string;
}

/** Kernels whose filtering was compared bit for bit with makedumpfile on a real dump. */
export const VERIFIED_KERNELS: readonly VerifiedKernel[] = [
  {
    release: '6.1',
    layout:
      'PG_slab flag; buddy/offline as _mapcount values; compound order and dtor as u8 in the first tail page',
    proof: 'test/lab/kdump.test.ts: bitmap 2 equal to Debian makedumpfile 1.7.2 at -d 2, 4, 8, 16, 31',
  },
  {
    release: '6.12',
    layout:
      'page types as whole _mapcount values (PGTY_* << 24: buddy, offline, slab, hugetlb; no PG_slab); folio order in the low byte of _flags_1 (first tail page flags)',
    proof:
      'test/lab/kdump.test.ts: bitmap 2 equal to Debian makedumpfile 1.7.2 at -d 2 and 16; at -d 31 it differs only by slab pages 1.7.2 drops as anon (makedumpfile 5f17bdd, bad2a7c); rules as makedumpfile master (72c3414, 9661c1d, 985e575)',
  },
];

export interface PageRules {
  sizePage: number;
  flags: number;
  mapping: number;
  mapcount: number | undefined;
  private: number | undefined;
  compoundHead: number | undefined;
  /** In the first tail page (4.16 to 6.5). */
  compoundOrder: number | undefined;
  compoundDtor: number | undefined;
  hugetlbDtor: number | undefined;
  /** 6.6-6.8: PG_hugetlb in folio._flags_1 (the first tail page's flags word). */
  pgHugetlb: number | undefined;
  /** 6.9+: a hugetlb folio's head has this _mapcount (page type). */
  hugetlbMapcount: number | undefined;
  pgLru: number | undefined;
  pgPrivate: number | undefined;
  pgSwapcache: number | undefined;
  pgSwapbacked: number | undefined;
  pgSlab: number | undefined;
  pgHwpoison: number | undefined;
  headMask: bigint | undefined;
  /** _mapcount values as the C code compares them: (int). */
  buddy: number | undefined;
  offline: number | undefined;
  slabMapcount: number | undefined;
  /** LENGTH(zone.free_area) = MAX_ORDER + 1; a buddy order at or above it is not trusted. */
  freeAreaLength: number | undefined;
}

export interface LevelPlan {
  requested: number;
  /** The bits that will really be applied (and recorded in the header). */
  applied: number;
  /** Whether struct pages must be read: a class bit, or the always-excluded hwpoison/offline pages. */
  walk: boolean;
  rules: PageRules | undefined;
  verified: VerifiedKernel | undefined;
  warnings: string[];
}

const int32 = (v: bigint | undefined) => (v === undefined ? undefined : Number(BigInt.asIntN(32, v)));
const num = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));

export function pageRules(info: Vmcoreinfo): PageRules {
  const o = info.offsets;
  const n = info.numbers;
  return {
    sizePage: need(info.sizes, 'SIZE', 'page'),
    flags: need(o, 'OFFSET', 'page.flags'),
    mapping: need(o, 'OFFSET', 'page.mapping'),
    mapcount: o['page._mapcount'],
    private: o['page.private'],
    compoundHead: o['page.compound_head'],
    compoundOrder: o['page.compound_order'],
    compoundDtor: o['page.compound_dtor'],
    hugetlbDtor: num(n['HUGETLB_PAGE_DTOR']),
    pgHugetlb: num(n['PG_hugetlb']),
    hugetlbMapcount: int32(n['PAGE_HUGETLB_MAPCOUNT_VALUE']),
    pgLru: num(n['PG_lru']),
    pgPrivate: num(n['PG_private']),
    pgSwapcache: num(n['PG_swapcache']),
    pgSwapbacked: num(n['PG_swapbacked']),
    pgSlab: num(n['PG_slab']),
    pgHwpoison: num(n['PG_hwpoison']),
    headMask: n['PG_head_mask'],
    buddy: int32(n['PAGE_BUDDY_MAPCOUNT_VALUE']),
    offline: int32(n['PAGE_OFFLINE_MAPCOUNT_VALUE']),
    slabMapcount: int32(n['PAGE_SLAB_MAPCOUNT_VALUE']),
    freeAreaLength: info.lengths['zone.free_area'],
  };
}

/** "6.1" from "6.1.0-56-cloud-amd64". */
export function majorMinor(osrelease: string | undefined): string | undefined {
  return /^(\d+\.\d+)/.exec(osrelease ?? '')?.[1];
}

/** Decides the level to apply; never throws (a missing key lowers the level, with a warning). */
export function planLevel(info: Vmcoreinfo | undefined, requested: number, x86_64: boolean): LevelPlan {
  const warnings: string[] = [];
  const plan = (applied: number, rules?: PageRules, verified?: VerifiedKernel): LevelPlan => ({
    requested,
    applied,
    walk: rules !== undefined && ((applied & STRUCT_PAGE_BITS) !== 0 || always(rules)),
    rules,
    verified,
    warnings,
  });
  const wanted = requested & STRUCT_PAGE_BITS;
  if (!info || !x86_64) {
    if (wanted) warnings.push('struct page filtering needs an x86_64 vmcore with VMCOREINFO');
    return plan(requested & DL_ZERO);
  }
  let rules: PageRules;
  try {
    rules = pageRules(info);
    for (const k of ['SECTION_SIZE_BITS', 'MAX_PHYSMEM_BITS', 'phys_base']) need(info.numbers, 'NUMBER', k);
    need(info.symbols, 'SYMBOL', 'mem_section');
    need(info.symbols, 'SYMBOL', 'init_top_pgt');
    need(info.sizes, 'SIZE', 'mem_section');
    need(info.offsets, 'OFFSET', 'mem_section.section_mem_map');
  } catch (e) {
    if (wanted) warnings.push(`${(e as Error).message}: struct pages cannot be read`);
    return plan(requested & DL_ZERO);
  }
  const mm = majorMinor(info.osrelease);
  const verified = VERIFIED_KERNELS.find((k) => k.release === mm);
  let allowed = DL_ZERO;
  const freeOk = rules.buddy !== undefined && rules.mapcount !== undefined && rules.private !== undefined;
  if (freeOk) allowed |= DL_FREE;
  if (verified) {
    if (rules.pgLru !== undefined && rules.pgPrivate !== undefined) allowed |= DL_CACHE | DL_CACHE_PRIVATE;
    allowed |= DL_USER;
  } else if (wanted & ~DL_FREE) {
    warnings.push(
      `kernel ${info.osrelease ?? '(unknown)'} is not in the verified table (${VERIFIED_KERNELS.map((k) => k.release).join(', ')}): ` +
        `cache and user pages are kept`,
    );
  }
  if (wanted & DL_FREE && !freeOk) {
    warnings.push(
      'VMCOREINFO lacks PAGE_BUDDY_MAPCOUNT_VALUE, page._mapcount or page.private: free pages are kept',
    );
  }
  return plan(requested & allowed, rules, verified);
}

/** hwpoison and offline pages are excluded at every level when the kernel exports how to see them. */
function always(r: PageRules): boolean {
  return r.pgHwpoison !== undefined;
}
