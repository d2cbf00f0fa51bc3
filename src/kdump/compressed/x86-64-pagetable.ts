// x86_64 kernel virtual -> physical by walking the crashed kernel's page tables, as makedumpfile does
// for dumps without PT_LOAD vaddrs (arch/x86_64.c vtop4_x86_64; research kdump.md §2 "x86_64 virtual ->
// physical"). The top table is SYMBOL(init_top_pgt), reached through the kernel-text mapping.
import { FormatError } from '../../errors.js';

/** Entry bits (arch/x86/include/asm/pgtable_types.h). */
const PAGE_PRESENT = 1n;
const PAGE_PSE = 0x80n;
/** Physical address bits of an entry (PTE_PFN_MASK with 52-bit physical addresses). */
const ENTRY_ADDR_MASK = 0x000f_ffff_ffff_f000n;
/** Index shifts: PGD (5-level), P4D/PGD, PUD, PMD, PTE; 9 bits each. */
const SHIFTS_4 = [39n, 30n, 21n, 12n];
const SHIFTS_5 = [48n, 39n, 30n, 21n, 12n];

export interface PageTableWalk {
  /** Physical address of the top table. */
  top: bigint;
  fiveLevel: boolean;
  /** NUMBER(sme_mask): the memory-encryption bit, cleared from every entry. */
  smeMask: bigint;
  readU64Phys(paddr: bigint): bigint;
}

/** The physical address of `va`, or undefined when a level is not present. */
export function walkX86_64(w: PageTableWalk, va: bigint): bigint | undefined {
  const mask = ENTRY_ADDR_MASK & ~w.smeMask;
  let table = w.top;
  const shifts = w.fiveLevel ? SHIFTS_5 : SHIFTS_4;
  for (const shift of shifts) {
    const index = (va >> shift) & 511n;
    const entry = w.readU64Phys(table + index * 8n);
    if (!(entry & PAGE_PRESENT)) return undefined;
    const size = 1n << shift;
    // A PSE entry at PUD (1 GiB) or PMD (2 MiB) level maps a large page; bit 12 there is PAT, not address.
    if (shift === 12n || ((shift === 30n || shift === 21n) && entry & PAGE_PSE)) {
      return (entry & mask & ~(size - 1n)) | (va & (size - 1n));
    }
    table = entry & mask;
  }
  throw new FormatError('page-table walk did not end', 'vmcore'); // unreachable: the PTE level returns
}
