// Where each pfn's struct page lives: SPARSEMEM (x86_64 always, with vmemmap). Sections of
// 2^(SECTION_SIZE_BITS - PAGE_SHIFT) pfns; with SPARSEMEM_EXTREME, SYMBOL(mem_section) is the root array
// of pointers to pages of `struct mem_section`. section_mem_map holds the "coded" mem_map (the struct page
// address minus the section's first pfn times SIZE(page)) with flag bits below bit 5. Facts:
// include/linux/mmzone.h (SECTION_MARKED_PRESENT, SECTION_MAP_LAST_BIT, __section_mem_map_addr),
// mm/sparse.c sparse_encode_mem_map, kernel/vmcore_info.c (the keys exported); makedumpfile
// get_mm_sparsemem / is_sparsemem_extreme.
import { FormatError } from '../../errors.js';
import { need, type Vmcoreinfo } from '../vmcoreinfo.js';
import type { X86_64PageTables } from '../x86-64-pagetable.js';

/** SECTION_MARKED_PRESENT (mmzone.h): the section has memory. */
const SECTION_MARKED_PRESENT = 1n;
/** SECTION_MAP_LAST_BIT is 1 << 5 since 4.13 (makedumpfile.h notes 1 << 2 before). */
const SECTION_MAP_MASK = ~((1n << 5n) - 1n);

export interface MemMapSection {
  nr: number;
  pfnStart: number;
  /** One past the last pfn (capped at max_mapnr). */
  pfnEnd: number;
  /** Virtual address of the struct page of pfnStart. */
  memMap: bigint;
}

export interface SparseLayout {
  pfnsPerSection: number;
  sectionsPerRoot: number;
  extreme: boolean;
}

export function sparseLayout(info: Vmcoreinfo, pageSize: number): SparseLayout {
  const sectionBits = Number(need(info.numbers, 'NUMBER', 'SECTION_SIZE_BITS'));
  const physBits = Number(need(info.numbers, 'NUMBER', 'MAX_PHYSMEM_BITS'));
  const secSize = need(info.sizes, 'SIZE', 'mem_section');
  const pageShift = Math.log2(pageSize);
  if (!Number.isInteger(pageShift) || sectionBits <= pageShift || physBits <= sectionBits || secSize <= 0) {
    throw new FormatError(
      `implausible memory model: SECTION_SIZE_BITS=${sectionBits} MAX_PHYSMEM_BITS=${physBits} SIZE(mem_section)=${secSize}`,
      'vmcore',
    );
  }
  const sectionsPerRoot = Math.floor(pageSize / secSize);
  const nrSections = 2 ** (physBits - sectionBits);
  const len = info.lengths['mem_section'];
  return {
    pfnsPerSection: 2 ** (sectionBits - pageShift),
    sectionsPerRoot,
    extreme: len === undefined || len === Math.ceil(nrSections / sectionsPerRoot),
  };
}

/** Present sections that hold pfns below maxMapnr, with their struct page addresses. */
export function memMapSections(
  info: Vmcoreinfo,
  mem: X86_64PageTables,
  maxMapnr: number,
  pageSize: number,
): MemMapSection[] {
  const l = sparseLayout(info, pageSize);
  const root = need(info.symbols, 'SYMBOL', 'mem_section');
  const secSize = need(info.sizes, 'SIZE', 'mem_section');
  const mapOff = need(info.offsets, 'OFFSET', 'mem_section.section_mem_map');
  const pageSizeOfStruct = BigInt(need(info.sizes, 'SIZE', 'page'));
  const count = Math.ceil(maxMapnr / l.pfnsPerSection);
  const out: MemMapSection[] = [];
  const roots = new Map<number, bigint>();
  for (let nr = 0; nr < count; nr++) {
    let addr: bigint;
    if (l.extreme) {
      const r = Math.floor(nr / l.sectionsPerRoot);
      let base = roots.get(r);
      if (base === undefined) {
        base = le64(mem.read(root + BigInt(r) * 8n, 8), 0);
        roots.set(r, base);
      }
      if (base === 0n) continue;
      addr = base + BigInt((nr % l.sectionsPerRoot) * secSize);
    } else {
      addr = root + BigInt(nr * secSize);
    }
    const map = le64(mem.read(addr + BigInt(mapOff), 8), 0);
    if ((map & SECTION_MARKED_PRESENT) === 0n) continue;
    const pfnStart = nr * l.pfnsPerSection;
    out.push({
      nr,
      pfnStart,
      pfnEnd: Math.min(pfnStart + l.pfnsPerSection, maxMapnr),
      memMap: BigInt.asUintN(64, (map & SECTION_MAP_MASK) + BigInt(pfnStart) * pageSizeOfStruct),
    });
  }
  return out;
}

function le64(b: Uint8Array, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
}
