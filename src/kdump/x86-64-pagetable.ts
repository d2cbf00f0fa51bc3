// x86_64 kernel virtual -> physical by walking the crashed kernel's own page tables from
// SYMBOL(init_top_pgt), 4- or 5-level (NUMBER(pgtable_l5_enabled)), with 1 GiB and 2 MiB pages, as
// makedumpfile does (arch/x86_64.c vtop4_x86_64; the kernel's arch/x86/include/asm/pgtable_types.h for
// _PAGE_PRESENT and _PAGE_PSE).
// One walker for both users: the dump-level filter (vmemmap, which no PT_LOAD maps) and kdump-compressed
// input (no PT_LOAD vaddrs at all). Entry bits: arch/x86/include/asm/pgtable_types.h.
import { FormatError } from '../errors.js';
import { type ElfVmcore, START_KERNEL_MAP } from './vmcore-elf.js';
import type { Vmcoreinfo } from './vmcoreinfo.js';

/** _PAGE_PRESENT and _PAGE_PSE. */
const PAGE_PRESENT = 1n;
const PAGE_PSE = 0x80n;
/** PTE_PFN_MASK for 52-bit physical addresses: bits 12..51. */
const ENTRY_MASK = 0x000f_ffff_ffff_f000n;
const ENTRIES = 512;
/** Table pages kept decoded; a vmemmap walk touches a few hundred at most. */
const CACHE_LIMIT = 4096;

const u64 = (n: bigint) => BigInt.asUintN(64, n);

/**
 * Physical memory of the dump: exactly `length` bytes at `paddr`, or undefined when the dump does not
 * hold them (it may also throw, e.g. for a pfn a kdump-compressed file has no page for). `maxSpan`
 * tells how many bytes from `paddr` one read can return (a PT_LOAD's end), so reads can be batched.
 */
export interface PhysSource {
  readPhys(paddr: bigint, length: number): Uint8Array | undefined;
  maxSpan?(paddr: bigint): number;
  /** readPhys into a caller's buffer (no array per read); false when the dump does not hold the bytes. */
  readPhysInto?(paddr: bigint, into: Uint8Array): boolean;
}

/** An ELF vmcore's PT_LOADs as a PhysSource: file bytes only (past p_filesz is not in the dump). */
export function elfPhysSource(vm: ElfVmcore): PhysSource {
  const span = (paddr: bigint) => {
    const p = vm.placePhys(paddr);
    return p && p.offset !== undefined ? { offset: p.offset, span: p.span } : undefined;
  };
  return {
    readPhys(paddr, length) {
      const p = span(paddr);
      return p && p.span >= length ? vm.reader.read(p.offset, length) : undefined;
    },
    maxSpan: (paddr) => span(paddr)?.span ?? 0,
    readPhysInto(paddr, into) {
      const p = span(paddr);
      if (!p || p.span < into.byteLength) return false;
      if (vm.reader.readInto) vm.reader.readInto(into, p.offset);
      else into.set(vm.reader.read(p.offset, into.byteLength));
      return true;
    },
  };
}

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

  /**
   * `physBase` is used when VMCOREINFO lacks NUMBER(phys_base) (a kdump-compressed file's sub-header
   * carries it too). Throws a FormatError when the top table cannot be located.
   */
  constructor(
    info: Vmcoreinfo | undefined,
    private readonly mem: PhysSource,
    physBase?: bigint,
  ) {
    const sym = info?.symbols['init_top_pgt'];
    const base = info?.numbers['phys_base'] ?? physBase;
    if (sym === undefined || base === undefined) {
      throw new FormatError(
        'VMCOREINFO has no SYMBOL(init_top_pgt) or NUMBER(phys_base)',
        'vmcore',
        undefined,
        { hint: "the crashed kernel's page tables cannot be found" },
      );
    }
    // Kernel-text rule, mod 2^64: phys_base can be negative (arch/x86/include/asm/page_64.h
    // __phys_addr_nodebug: x - __START_KERNEL_map + phys_base).
    this.top = u64(sym - START_KERNEL_MAP + base);
    this.levels = (info?.numbers['pgtable_l5_enabled'] ?? 0n) !== 0n ? 5 : 4;
    // NUMBER(sme_mask): the memory-encryption bit, cleared from every entry.
    this.mask = ENTRY_MASK & ~u64(info?.numbers['sme_mask'] ?? 0n);
  }

  /** One 512-entry table at a physical address, decoded once. */
  private table(paddr: bigint): BigUint64Array | undefined {
    const hit = this.cache.get(paddr);
    if (hit) return hit;
    const raw = this.mem.readPhys(paddr, ENTRIES * 8);
    if (!raw) return undefined;
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
      // PSE at PUD (level 3) maps 1 GiB, at PMD (level 2) 2 MiB; bit 12 there is PAT, not address,
      // and is cleared by the size mask.
      if (level === 1 || ((level === 2 || level === 3) && (e & PAGE_PSE) !== 0n)) {
        const size = 1n << shift;
        const off = va & (size - 1n);
        return { paddr: (e & this.mask & ~(size - 1n)) + off, span: Number(size - off) };
      }
      table = e & this.mask;
    }
    return undefined;
  }

  /** `length` bytes at `vaddr` into one buffer, one physical read per mapped run. Throws if unmapped. */
  read(vaddr: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = into && into.byteLength >= length ? into.subarray(0, length) : new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const va = u64(vaddr + BigInt(done));
      const t = this.translate(va);
      let n = t ? Math.min(t.span, length - done) : 0;
      if (t && this.mem.maxSpan) n = Math.min(n, this.mem.maxSpan(t.paddr));
      // The struct page pass reads megabytes per batch: straight into `out` when the source can.
      const direct = t !== undefined && n > 0 && this.mem.readPhysInto !== undefined;
      const bytes = direct
        ? this.mem.readPhysInto?.(t.paddr, out.subarray(done, done + n))
        : t && n > 0
          ? this.mem.readPhys(t.paddr, n)
          : undefined;
      if (!bytes) {
        throw new FormatError(`vaddr 0x${va.toString(16)} is not mapped in the dump`, 'vmcore', undefined, {
          hint: 'the page tables or the memory they point to are missing from the dump',
        });
      }
      if (bytes !== true) out.set(bytes, done);
      done += n;
    }
    return out;
  }
}
