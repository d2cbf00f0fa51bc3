// x86_64 kernel virtual -> physical by walking the crashed kernel's own page tables from
// SYMBOL(init_top_pgt), 4- or 5-level (NUMBER(pgtable_l5_enabled)), with 1 GiB and 2 MiB pages.
// Needed for vmemmap (struct page), which no PT_LOAD maps. Facts: research kdump.md §2 "x86_64 virtual
// -> physical"; arch/x86/include/asm/pgtable_types.h (_PAGE_PRESENT, _PAGE_PSE); makedumpfile
// arch/x86_64.c (the top table's physical address from phys_base).
import { FormatError } from '../../errors.js';
import { type ElfVmcore, START_KERNEL_MAP } from '../vmcore-elf.js';

/** _PAGE_PRESENT and _PAGE_PSE (pgtable_types.h). */
const PAGE_PRESENT = 1n;
const PAGE_PSE = 0x80n;
/** PTE_PFN_MASK for 52-bit physical addresses: bits 12..51. */
const ENTRY_MASK = 0x000f_ffff_ffff_f000n;
const ENTRIES = 512;
/** Table pages kept decoded; a vmemmap walk touches a few hundred at most. */
const CACHE_LIMIT = 4096;

const u64 = (n: bigint) => BigInt.asUintN(64, n);

export interface Translation {
  paddr: bigint;
  /** Bytes from paddr to the end of the page (4 KiB, 2 MiB or 1 GiB) that maps it. */
  span: number;
}

export class X86_64PageTables {
  readonly top: bigint;
  readonly levels: 4 | 5;
  private readonly mask: bigint;
  private readonly cache = new Map<bigint, BigUint64Array>();

  constructor(private readonly vm: ElfVmcore) {
    const info = vm.vmcoreinfo;
    const sym = info?.symbols['init_top_pgt'];
    const physBase = info?.numbers['phys_base'];
    if (sym === undefined || physBase === undefined) {
      throw new FormatError(
        'VMCOREINFO has no SYMBOL(init_top_pgt) or NUMBER(phys_base)',
        'vmcore',
        undefined,
        {
          hint: 'the page tables cannot be found; struct page filtering needs them',
        },
      );
    }
    // Kernel-text rule, mod 2^64: phys_base can be negative (research kdump.md §2).
    this.top = u64(sym - START_KERNEL_MAP + physBase);
    this.levels = (info?.numbers['pgtable_l5_enabled'] ?? 0n) !== 0n ? 5 : 4;
    this.mask = ENTRY_MASK & ~u64(info?.numbers['sme_mask'] ?? 0n);
  }

  /** One 512-entry table at a physical address (read through the PT_LOADs). */
  private table(paddr: bigint): BigUint64Array | undefined {
    const hit = this.cache.get(paddr);
    if (hit) return hit;
    const p = this.vm.placePhys(paddr);
    if (!p || p.offset === undefined || p.span < ENTRIES * 8) return undefined;
    const raw = this.vm.reader.read(p.offset, ENTRIES * 8);
    const t = new BigUint64Array(ENTRIES);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < ENTRIES; i++) t[i] = dv.getBigUint64(i * 8, true);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(paddr, t);
    return t;
  }

  /** The physical address of `va`, or undefined when a level is not present or not in the dump. */
  translate(vaddr: bigint): Translation | undefined {
    const va = u64(vaddr);
    let table = this.top;
    for (let level: number = this.levels; level >= 1; level--) {
      const shift = BigInt(12 + 9 * (level - 1));
      const t = this.table(table);
      if (!t) return undefined;
      const e = t[Number((va >> shift) & 511n)]!;
      if ((e & PAGE_PRESENT) === 0n) return undefined;
      // PSE at PUD (level 3) maps 1 GiB, at PMD (level 2) 2 MiB.
      if (level === 1 || ((level === 2 || level === 3) && (e & PAGE_PSE) !== 0n)) {
        const size = 1n << shift;
        const off = va & (size - 1n);
        return { paddr: (e & this.mask & ~(size - 1n)) + off, span: Number(size - off) };
      }
      table = e & this.mask;
    }
    return undefined;
  }

  /** `length` bytes at `vaddr` into one buffer, one file read per mapped page run. Throws if unmapped. */
  read(vaddr: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = into && into.byteLength >= length ? into.subarray(0, length) : new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const va = u64(vaddr + BigInt(done));
      const t = this.translate(va);
      const p = t && this.vm.placePhys(t.paddr);
      if (!t || !p || p.offset === undefined) {
        throw new FormatError(`vaddr 0x${va.toString(16)} is not mapped in the dump`, 'vmcore', undefined, {
          hint: 'the page tables or the memory they point to are missing from the dump',
        });
      }
      const n = Math.min(t.span, p.span, length - done);
      out.set(this.vm.reader.read(p.offset, n), done);
      done += n;
    }
    return out;
  }
}
