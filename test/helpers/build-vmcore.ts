// Synthetic ELF vmcores: physical memory holding a printk log written the way the kernel writes it
// (kernel/printk/printk_ringbuffer.c: id and lpos arithmetic, wrapping blocks, recycled descriptors),
// behind a kernel-text and a direct-map PT_LOAD, with NT_PRSTATUS and VMCOREINFO notes.
import { ET_CORE, encodeElfHeader } from '../../src/formats/elf/ehdr.js';
import { encodeNotes } from '../../src/formats/elf/note.js';
import { type ElfPhdr, encodeProgramHeaders, PT_LOAD, PT_NOTE } from '../../src/formats/elf/phdr.js';
import { ElfPrstatusX86_64, NT_PRSTATUS, UserRegsStruct, type X86_64Regs } from '../../src/kdump/prstatus.js';
import { START_KERNEL_MAP } from '../../src/kdump/vmcore-elf.js';
import { elfHeaderFor } from './build-elf.js';

export const PHYS_START = 0x100_0000n;
export const PAGE_OFFSET = 0xffff_8880_0000_0000n;
/** The first TEXT_SIZE bytes of memory are also mapped as kernel text (phys_base 0). */
export const TEXT_SIZE = 0x1_0000;
export const MEM_SIZE = 0x10_0000;

export interface SynthRecord {
  tsNsec: bigint;
  text: Uint8Array;
  callerId?: number;
}

/** Physical memory with a bump allocator; `text` addresses come from the kernel-text region. */
export class SynthMemory {
  readonly bytes = new Uint8Array(MEM_SIZE);
  readonly view = new DataView(this.bytes.buffer);
  private textTop = 0;
  private top = TEXT_SIZE;
  /** Returns the kernel virtual address of n bytes (kernel-text mapping when `text`), `align`-aligned. */
  alloc(n: number, text = false, align = 8): bigint {
    const at = Math.ceil((text ? this.textTop : this.top) / align) * align;
    const next = at + Math.ceil(n / 8) * 8;
    if (text) this.textTop = next;
    else this.top = next;
    if (this.textTop > TEXT_SIZE || this.top > MEM_SIZE) throw new Error('synthetic memory full');
    return text ? START_KERNEL_MAP + PHYS_START + BigInt(at) : PAGE_OFFSET + PHYS_START + BigInt(at);
  }
  off(va: bigint): number {
    return va >= START_KERNEL_MAP
      ? Number(va - START_KERNEL_MAP - PHYS_START)
      : Number(va - PAGE_OFFSET - PHYS_START);
  }
  u16(va: bigint, v: number): void {
    this.view.setUint16(this.off(va), v, true);
  }
  u32(va: bigint, v: number): void {
    this.view.setUint32(this.off(va), v, true);
  }
  u64(va: bigint, v: bigint): void {
    this.view.setBigUint64(this.off(va), BigInt.asUintN(64, v), true);
  }
  set(va: bigint, b: Uint8Array): void {
    this.bytes.set(b, this.off(va));
  }
}

/** The 6.1 x86_64 values of the VMCOREINFO keys the lockless reader uses (a real Debian 6.1 dump's VMCOREINFO; kernel/printk/printk.c log_buf_vmcoreinfo_setup exports them). */
export const LOCKLESS_KEYS = `SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
SIZE(atomic_long_t)=8
OFFSET(atomic_long_t.counter)=0
`;

const M64 = (n: bigint) => BigInt.asUintN(64, n);
const ID_MASK = (1n << 62n) - 1n;
const NO_LPOS = 3n;

/**
 * Writes `records` into a lockless ring of 2^countBits descriptors and 2^sizeBits text bytes, as
 * prb_reserve/prb_commit would, and returns the VMCOREINFO lines plus the records that survive.
 */
export function writeLocklessLog(
  mem: SynthMemory,
  records: SynthRecord[],
  countBits: number,
  sizeBits: number,
): { keys: string; survivors: SynthRecord[] } {
  const count = 1n << BigInt(countBits);
  const size = 1n << BigInt(sizeBits);
  const prbVar = mem.alloc(8, true);
  const rb = mem.alloc(88, true);
  const descs = mem.alloc(Number(count) * 24);
  const infos = mem.alloc(Number(count) * 88);
  const data = mem.alloc(Number(size));
  mem.u64(prbVar, rb);

  // DESC0_ID and BLK0_LPOS (printk_ringbuffer.h): ids start just below 2^62 and lpos one wrap below 0.
  let headId = -(count + 1n) & ID_MASK;
  let tailId = headId;
  let headLpos = M64(-size);
  const live: { id: bigint; begin: bigint; next: bigint; rec: SynthRecord }[] = [];
  const desc = (id: bigint) => descs + (id % count) * 24n;
  const setState = (id: bigint, state: bigint) => mem.u64(desc(id), (state << 62n) | id);
  // The static ring's first descriptor: reusable, FAILED_LPOS.
  setState(headId, 3n);
  mem.u64(desc(headId) + 8n, 1n);
  mem.u64(desc(headId) + 16n, 1n);

  let seq = 0n;
  for (const rec of records) {
    const id = (headId + 1n) & ID_MASK;
    // Recycling the slot drops the oldest descriptor.
    if (((id - tailId) & ID_MASK) >= count) {
      tailId = (tailId + 1n) & ID_MASK;
      if (live[0] && ((id - live[0].id) & ID_MASK) >= count) live.shift();
    }
    let begin = NO_LPOS;
    let next = NO_LPOS;
    if (rec.text.byteLength > 0) {
      const blk = BigInt(Math.ceil((rec.text.byteLength + 8) / 8) * 8);
      begin = headLpos;
      next = M64(begin + blk);
      // A block that would reach the end of the ring is stored at the start of the next wrap.
      if (M64(begin) / size !== M64(begin + blk) / size) next = M64((M64(begin + blk) / size) * size + blk);
      headLpos = next;
      // Text overwritten: its descriptor becomes reusable.
      for (const l of live) {
        if (l.begin !== NO_LPOS && M64(next - l.begin) > size) setState(l.id, 3n);
      }
      const at = next - blk;
      mem.u64(data + (begin % size), id);
      mem.u64(data + (at % size), id);
      mem.set(data + (at % size) + 8n, rec.text);
    }
    setState(id, 2n);
    mem.u64(desc(id) + 8n, begin);
    mem.u64(desc(id) + 16n, next);
    const info = infos + (id % count) * 88n;
    mem.u64(info, seq++);
    mem.u64(info + 8n, rec.tsNsec);
    mem.u16(info + 16n, rec.text.byteLength);
    mem.u32(info + 20n, rec.callerId ?? 0x8000_0000);
    live.push({ id, begin, next, rec });
    headId = id;
  }
  mem.u32(rb, countBits);
  mem.u64(rb + 8n, descs);
  mem.u64(rb + 16n, infos);
  mem.u64(rb + 24n, headId);
  mem.u64(rb + 32n, tailId);
  mem.u32(rb + 48n, sizeBits);
  mem.u64(rb + 56n, data);
  mem.u64(rb + 64n, headLpos);
  const survivors = live.filter((l) => mem.view.getBigUint64(mem.off(desc(l.id)), true) >> 62n === 2n);
  return {
    keys: `SYMBOL(prb)=${prbVar.toString(16)}\n${LOCKLESS_KEYS}`,
    survivors: survivors.map((l) => l.rec),
  };
}

export interface VmcoreSpec {
  vmcoreinfo: string;
  mem: SynthMemory;
  cpus?: { pid: number; regs: Partial<X86_64Regs> }[];
  /** Zero the p_vaddr of the kernel-text or direct-map PT_LOAD (exercise the fallback rules). */
  zeroVaddr?: 'text' | 'ram';
}

export function buildVmcore(spec: VmcoreSpec): Uint8Array {
  const prstatus = (spec.cpus ?? [{ pid: 1, regs: {} }]).map((c) => {
    const desc = new Uint8Array(336);
    ElfPrstatusX86_64.encode({ pr_pid: c.pid, pr_reg: UserRegsStruct.encode(c.regs) }, desc);
    return { name: 'CORE', type: NT_PRSTATUS, desc };
  });
  const notes = encodeNotes(
    [...prstatus, { name: 'VMCOREINFO', type: 0, desc: new TextEncoder().encode(spec.vmcoreinfo) }],
    'le',
  );
  const header = elfHeaderFor({ type: ET_CORE }, 3);
  const noteOff = 64 + 3 * 56;
  const textOff = noteOff + notes.byteLength;
  const ramOff = textOff + TEXT_SIZE;
  const seg = (vaddr: bigint, offset: number, size: number): ElfPhdr => ({
    p_type: PT_LOAD,
    p_flags: 7,
    p_offset: BigInt(offset),
    p_vaddr: vaddr,
    p_paddr: PHYS_START,
    p_filesz: BigInt(size),
    p_memsz: BigInt(size),
    p_align: 0n,
  });
  const phdrs: ElfPhdr[] = [
    { ...seg(0n, noteOff, notes.byteLength), p_type: PT_NOTE, p_paddr: 0n, p_memsz: 0n },
    seg(spec.zeroVaddr === 'text' ? 0n : START_KERNEL_MAP + PHYS_START, textOff, TEXT_SIZE),
    seg(spec.zeroVaddr === 'ram' ? 0n : PAGE_OFFSET + PHYS_START, ramOff, MEM_SIZE),
  ];
  const out = new Uint8Array(ramOff + MEM_SIZE);
  encodeElfHeader(header, out);
  encodeProgramHeaders(phdrs, header, out);
  out.set(notes, noteOff);
  out.set(spec.mem.bytes.subarray(0, TEXT_SIZE), textOff);
  out.set(spec.mem.bytes, ramOff);
  return out;
}

/** The structured log (3.5-5.9): records from `start` on, wrapping to 0 with a len == 0 header. */
export function writeStructuredLog(
  mem: SynthMemory,
  records: SynthRecord[],
  bufLen: number,
  start: number,
): { keys: string } {
  const vars = mem.alloc(8 + 4 * 3, true);
  const buf = mem.alloc(bufLen);
  mem.u64(vars, buf);
  let idx = start;
  for (const r of records) {
    const len = Math.ceil((16 + r.text.byteLength) / 8) * 8;
    if (idx + len + 16 > bufLen) {
      mem.set(buf + BigInt(idx), new Uint8Array(16)); // len == 0: continue at 0
      idx = 0;
    }
    const at = buf + BigInt(idx);
    mem.u64(at, r.tsNsec);
    mem.u16(at + 8n, len);
    mem.u16(at + 10n, r.text.byteLength);
    mem.u16(at + 12n, 0);
    mem.set(at + 16n, r.text);
    idx += len;
  }
  mem.u32(vars + 8n, bufLen);
  mem.u32(vars + 12n, start);
  mem.u32(vars + 16n, idx);
  const sym = (name: string, off: bigint) => `SYMBOL(${name})=${(vars + off).toString(16)}\n`;
  return {
    keys: `${sym('log_buf', 0n)}${sym('log_buf_len', 8n)}${sym('log_first_idx', 12n)}${sym('log_next_idx', 16n)}SIZE(printk_log)=16
OFFSET(printk_log.ts_nsec)=0
OFFSET(printk_log.len)=8
OFFSET(printk_log.text_len)=10
OFFSET(printk_log.dict_len)=12
`,
  };
}

/** The pre-3.5 log: `text` written through a ring of bufLen bytes. */
export function writeLegacyLog(mem: SynthMemory, text: Uint8Array, bufLen: number): { keys: string } {
  const vars = mem.alloc(8 + 4 * 3, true);
  const buf = mem.alloc(bufLen);
  mem.u64(vars, buf);
  text.forEach((c, i) => {
    mem.bytes[mem.off(buf) + (i % bufLen)] = c;
  });
  mem.u32(vars + 8n, bufLen);
  mem.u32(vars + 12n, text.byteLength);
  mem.u32(vars + 16n, Math.min(text.byteLength, bufLen));
  const sym = (name: string, off: bigint) => `SYMBOL(${name})=${(vars + off).toString(16)}\n`;
  return {
    keys: `${sym('log_buf', 0n)}${sym('log_buf_len', 8n)}${sym('log_end', 12n)}${sym('logged_chars', 16n)}`,
  };
}

/** x86_64 vmemmap base with 4-level paging (Documentation/arch/x86/x86_64/mm.rst; no KASLR here). */
export const VMEMMAP = 0xffff_ea00_0000_0000n;
/** First pfn of the synthetic memory. */
export const FIRST_PFN = Number(PHYS_START) / 4096;

/** One struct page to plant (6.1 x86_64 layout: flags 0, compound_head 8, compound_dtor 16,
 *  compound_order 17, mapping 24, private 40, _mapcount 48, _refcount 52; SIZE(page) 64). */
export interface SynthPage {
  pfn: number;
  flags?: bigint;
  mapping?: bigint;
  private?: bigint;
  mapcount?: number;
  compoundHead?: bigint;
  compoundDtor?: number;
  compoundOrder?: number;
}

/** The 6.1 page flag numbers and struct page offsets (a real Debian 6.1 VMCOREINFO; kernel/vmcore_info.c crash_save_vmcoreinfo_init exports them). */
export const PAGE_KEYS_6_1 = `SIZE(page)=64
OFFSET(page.flags)=0
OFFSET(page._refcount)=52
OFFSET(page.mapping)=24
OFFSET(page.lru)=8
OFFSET(page._mapcount)=48
OFFSET(page.private)=40
OFFSET(page.compound_dtor)=16
OFFSET(page.compound_order)=17
OFFSET(page.compound_head)=8
LENGTH(zone.free_area)=11
NUMBER(PG_lru)=4
NUMBER(PG_private)=13
NUMBER(PG_swapcache)=10
NUMBER(PG_swapbacked)=19
NUMBER(PG_slab)=9
NUMBER(PG_head_mask)=65536
NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
NUMBER(HUGETLB_PAGE_DTOR)=2
NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257
`;

/**
 * Page tables from init_top_pgt (in kernel text, phys_base 0): the direct map as one 1 GiB page, kernel
 * text as one 2 MiB page, and vmemmap as 4 KiB pages over the struct pages of the synthetic pfns; a
 * SPARSEMEM_EXTREME mem_section (MAX_PHYSMEM_BITS 46, SECTION_SIZE_BITS 27, 16-byte mem_section) whose
 * section 0 is present with vmemmap as its coded mem_map; and the given struct pages. Returns the
 * VMCOREINFO lines (page keys included).
 */
export function writeMemMap(mem: SynthMemory, pages: SynthPage[], l5 = false): string {
  const pa = (va: bigint) => PHYS_START + BigInt(mem.off(va));
  const top = mem.alloc(4096, true, 4096);
  const table = () => mem.alloc(4096, false, 4096);
  const levels = l5 ? 5 : 4;
  const map = (va: bigint, phys: bigint, pageLevel: 1 | 2 | 3) => {
    let t = top;
    for (let level = levels; level > pageLevel; level--) {
      const slot = t + ((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8n;
      let e = mem.view.getBigUint64(mem.off(slot), true);
      if (e === 0n) {
        e = pa(table()) | 0x63n; // present, rw, accessed, dirty
        mem.u64(slot, e);
      }
      t = PAGE_OFFSET + (e & 0x000f_ffff_ffff_f000n);
    }
    const slot = t + ((va >> BigInt(12 + 9 * (pageLevel - 1))) & 511n) * 8n;
    mem.u64(slot, phys | 0x63n | (pageLevel > 1 ? 0x80n : 0n));
  };
  map(PAGE_OFFSET, 0n, 3); // 1 GiB: the direct map of physical 0..1 GiB
  map(START_KERNEL_MAP + PHYS_START, PHYS_START, 2); // 2 MiB of kernel text
  const pfns = MEM_SIZE / 4096;
  const structs = mem.alloc(pfns * 64, false, 4096);
  for (let i = 0; i < (pfns * 64) / 4096; i++) {
    map(VMEMMAP + BigInt(FIRST_PFN * 64 + i * 4096), pa(structs) + BigInt(i * 4096), 1);
  }
  for (const p of pages) {
    const at = structs + BigInt((p.pfn - FIRST_PFN) * 64);
    mem.u64(at, p.flags ?? 0n);
    mem.u64(at + 8n, p.compoundHead ?? 0n);
    mem.bytes[mem.off(at + 16n)] = p.compoundDtor ?? 0;
    mem.bytes[mem.off(at + 17n)] = p.compoundOrder ?? 0;
    mem.u64(at + 24n, p.mapping ?? 0n);
    mem.u64(at + 40n, p.private ?? 0n);
    mem.u32(at + 48n, (p.mapcount ?? -1) >>> 0);
    mem.u32(at + 52n, 1);
  }
  // 2^(46-27) sections, 4096/16 per root: LENGTH(mem_section) = 2048 roots; only root 0 is allocated.
  const roots = mem.alloc(2048 * 8, false, 4096);
  const sections = mem.alloc(4096, false, 4096);
  mem.u64(roots, sections);
  mem.u64(sections, VMEMMAP | 0x3n); // SECTION_MARKED_PRESENT | SECTION_HAS_MEM_MAP
  return `SYMBOL(init_top_pgt)=${top.toString(16)}
NUMBER(pgtable_l5_enabled)=${l5 ? 1 : 0}
NUMBER(phys_base)=0
SYMBOL(mem_section)=${roots.toString(16)}
LENGTH(mem_section)=2048
SIZE(mem_section)=16
OFFSET(mem_section.section_mem_map)=0
NUMBER(SECTION_SIZE_BITS)=27
NUMBER(MAX_PHYSMEM_BITS)=46
${PAGE_KEYS_6_1}`;
}

/**
 * A dump as a user meets one: a 6.1 x86_64 kernel's ELF vmcore with its printk log (`lines`), page
 * tables and mem_map (so `vmcore save` in every format and `vmcore dmesg` of what it wrote work), and a
 * few pages of content. For the tests that run the installed command on it (test/package).
 */
export function userVmcore(lines: string[]): Uint8Array {
  const mem = new SynthMemory();
  const map = writeMemMap(mem, []);
  const records = lines.map((l, i) => ({
    tsNsec: BigInt(i + 1) * 1_000_000n,
    text: new TextEncoder().encode(l),
  }));
  const { keys } = writeLocklessLog(mem, records, 4, 10);
  for (let p = 40; p < 48; p++) mem.bytes.fill(p, p * 4096, p * 4096 + 100);
  return buildVmcore({ vmcoreinfo: `OSRELEASE=6.1.0-test\nPAGESIZE=4096\n${map}${keys}`, mem });
}
