// A kdump-compressed file (ours or makedumpfile's) as a Dump: notes and VMCOREINFO from the sub-header
// (offset_note/size_note, offset_vmcoreinfo/size_vmcoreinfo), physical pages through the bitmaps and the
// page descriptors (makedumpfile diskdump_mod.h, and IMPLEMENTATION's layout), and virtual addresses
// without PT_LOAD vaddrs: kernel text by phys_base, other addresses by NUMBER(PAGE_OFFSET) when exported,
// else by a page-table walk from SYMBOL(init_top_pgt), as makedumpfile does for this format
// (arch/x86_64.c vtop4_x86_64). Pages a filtered dump excluded
// (valid in bitmap 1, not dumpable in bitmap 2) read as zero, as crash --zero_excluded shows them.
import { bounded } from '../../binary/bounds.js';
import { FormatError } from '../../errors.js';
import { ELF_MACHINES, EM_X86_64 } from '../../formats/elf/ehdr.js';
import { iterateNotes } from '../../formats/elf/note.js';
import type { Dump } from '../dump.js';
import { type CpuState, decodePrstatusX86_64, NT_PRSTATUS } from '../prstatus.js';
import type { RandomAccessReader } from '../reader.js';
import { MAX_NOTE_SEGMENT, START_KERNEL_MAP, type VmcoreNote } from '../vmcore-elf.js';
import { MAX_VMCOREINFO_BYTES, parseVmcoreinfo, type Vmcoreinfo, vmcoreinfoText } from '../vmcoreinfo.js';
import { X86_64PageTables } from '../x86-64-pagetable.js';
import { decompressPage } from './codec.js';
import {
  DiskDumpHeader,
  KDUMP_SIGNATURE,
  KdumpSubHeader,
  PAGE_DESC_SIZE,
  PageDesc,
  splitPfns,
  UTS_FIELDS,
  UTS_LEN,
} from './layout.js';
import { POPCOUNT } from './reader.js';

const u64 = (n: bigint) => BigInt.asUintN(64, n);
/** KERNEL_IMAGE_SIZE when VMCOREINFO lacks it: 1 GiB with KASLR (page_64_types.h). */
const DEFAULT_KERNEL_IMAGE_SIZE = 1n << 30n;
/** Bitmap bytes per prefix-count section (32768 pfns). */
const SECTION = 4096;
/** Decompressed pages kept (page tables and the log ring are read page by page, often twice). */
const PAGE_CACHE = 256;
/** x86_64 KASLR places the direct map on a 1 GiB (PUD) boundary (arch/x86/mm/kaslr.c). */
const DIRECT_MAP_ALIGN = 1n << 30n;

export type KdumpHeader = ReturnType<typeof DiskDumpHeader.decode>;
export type KdumpSub = ReturnType<typeof KdumpSubHeader.decode>;

export class KdumpVmcore implements Dump {
  readonly format = 'kdump';
  readonly littleEndian = true;
  readonly header: KdumpHeader;
  readonly sub: KdumpSub;
  readonly pageSize: number;
  readonly maxMapnr: number;
  readonly arch: string | undefined;
  readonly utsname: Record<(typeof UTS_FIELDS)[number], string>;
  readonly notes: VmcoreNote[] = [];
  readonly cpus: CpuState[] = [];
  readonly vmcoreinfo: Vmcoreinfo | undefined;
  readonly vmcoreinfoRaw: string | undefined;
  private readonly bitmapBytes: number;
  private readonly bitmap1: number;
  private readonly bitmap2: number;
  private readonly descStart: number;
  private prefix: Float64Array | undefined;
  private readonly sections = new Map<string, Uint8Array>();
  private readonly pages = new Map<number, Uint8Array>();
  private pageTables: X86_64PageTables | undefined;
  /** For one part of a split dump (makedumpfile --split): the pfns it holds. */
  readonly split: { start: number; end: number } | undefined;
  /** Descriptor index of the part's first pfn: its descriptors start at the region's start. */
  private splitBase = -1;

  constructor(readonly reader: RandomAccessReader) {
    this.header = DiskDumpHeader.decode(reader.read(0, DiskDumpHeader.size));
    if (this.header.signature !== KDUMP_SIGNATURE) {
      throw new FormatError('not a kdump-compressed file (no "KDUMP   " signature)', 'kdump', 0);
    }
    const bs = this.header.block_size;
    if (bs < 512 || bs > 1 << 20 || (bs & (bs - 1)) !== 0) {
      throw new FormatError(`block_size ${bs} is not a power of two in 512..1 MiB`, 'kdump', 428);
    }
    this.pageSize = bs;
    this.sub = KdumpSubHeader.decode(reader.read(bs, KdumpSubHeader.size));
    this.maxMapnr =
      this.header.header_version >= 6
        ? bounded(this.sub.max_mapnr_64, 2 ** 40, 'max_mapnr_64', 'kdump')
        : this.header.max_mapnr;
    this.bitmapBytes = bounded(this.header.bitmap_blocks / 2, 2 ** 30 / bs, 'bitmap_blocks', 'kdump') * bs;
    if (this.bitmapBytes * 8 < this.maxMapnr) {
      throw new FormatError(
        `bitmaps cover ${this.bitmapBytes * 8} pfns, max_mapnr is ${this.maxMapnr}`,
        'kdump',
      );
    }
    const part = splitPfns(this.header.header_version, this.sub);
    if (part) {
      const start = bounded(part.start, this.maxMapnr, 'start_pfn', 'kdump');
      const end = bounded(part.end, this.maxMapnr, 'end_pfn', 'kdump');
      if (start > end) throw new FormatError(`split part: start_pfn ${start} > end_pfn ${end}`, 'kdump');
      this.split = { start, end };
    }
    this.bitmap1 = (1 + bounded(this.header.sub_hdr_size, 2 ** 20, 'sub_hdr_size', 'kdump')) * bs;
    this.bitmap2 = this.bitmap1 + this.bitmapBytes;
    this.descStart = this.bitmap2 + this.bitmapBytes;
    this.utsname = Object.fromEntries(
      UTS_FIELDS.map((f, i) => {
        const raw = this.header.utsname.subarray(i * UTS_LEN, (i + 1) * UTS_LEN);
        const end = raw.indexOf(0);
        return [f, Buffer.from(raw.subarray(0, end < 0 ? UTS_LEN : end)).toString('latin1')];
      }),
    ) as KdumpVmcore['utsname'];
    const x86 = this.utsname.machine === 'x86_64';
    this.arch = x86 ? ELF_MACHINES[EM_X86_64] : this.utsname.machine || undefined;
    // Notes: header version 4+ (crash reads them only then); a verbatim copy of the PT_NOTE segment.
    if (this.header.header_version >= 4 && this.sub.size_note > 0n) {
      const size = bounded(this.sub.size_note, MAX_NOTE_SEGMENT, 'size_note', 'kdump');
      const base = bounded(this.sub.offset_note, Number.MAX_SAFE_INTEGER, 'offset_note', 'kdump');
      for (const n of iterateNotes(reader.read(base, size), 'le')) {
        this.notes.push({ name: n.name, type: n.type, offset: base + n.offset, desc: n.desc.slice() });
        if (x86 && n.name === 'CORE' && n.type === NT_PRSTATUS) {
          this.cpus.push(decodePrstatusX86_64(n.desc, this.cpus.length));
        }
      }
    }
    // VMCOREINFO: header version 3+, its own offset/size (inside the notes for makedumpfile and us).
    if (this.header.header_version >= 3 && this.sub.size_vmcoreinfo > 0n) {
      const size = bounded(this.sub.size_vmcoreinfo, MAX_VMCOREINFO_BYTES, 'size_vmcoreinfo', 'kdump');
      const at = bounded(this.sub.offset_vmcoreinfo, Number.MAX_SAFE_INTEGER, 'offset_vmcoreinfo', 'kdump');
      this.vmcoreinfoRaw = vmcoreinfoText(reader.read(at, size));
      this.vmcoreinfo = parseVmcoreinfo(this.vmcoreinfoRaw);
    }
  }

  private bitmapSection(which: 1 | 2, sec: number): Uint8Array {
    const key = `${which}:${sec}`;
    let s = this.sections.get(key);
    if (!s) {
      const at = sec * SECTION;
      s = this.reader.read(
        (which === 1 ? this.bitmap1 : this.bitmap2) + at,
        Math.min(SECTION, this.bitmapBytes - at),
      );
      if (this.sections.size >= 64) this.sections.delete(this.sections.keys().next().value!);
      this.sections.set(key, s);
    }
    return s;
  }

  private bit(which: 1 | 2, pfn: number): boolean {
    const byte = pfn >>> 3;
    return ((this.bitmapSection(which, Math.floor(byte / SECTION))[byte % SECTION]! >> (pfn & 7)) & 1) === 1;
  }

  /** Dumpable pages before each section: the descriptor index of a pfn is a bit count (crash does the same). */
  private prefixCounts(): Float64Array {
    if (!this.prefix) {
      const n = Math.ceil(this.bitmapBytes / SECTION);
      const prefix = new Float64Array(n + 1);
      const step = 256 * SECTION;
      for (let at = 0; at < this.bitmapBytes; at += step) {
        const chunk = this.reader.read(this.bitmap2 + at, Math.min(step, this.bitmapBytes - at));
        for (let s = 0; s * SECTION < chunk.byteLength; s++) {
          let c = 0;
          const end = Math.min((s + 1) * SECTION, chunk.byteLength);
          for (let i = s * SECTION; i < end; i++) c += POPCOUNT[chunk[i]!]!;
          const sec = at / SECTION + s;
          prefix[sec + 1] = prefix[sec]! + c;
        }
      }
      this.prefix = prefix;
    }
    return this.prefix;
  }

  /** Number of dumpable pages (set bits of bitmap 2). */
  get dumpablePages(): number {
    const p = this.prefixCounts();
    return p[p.length - 1]!;
  }

  private descIndex(pfn: number): number {
    const byte = pfn >>> 3;
    const sec = Math.floor(byte / SECTION);
    const bits = this.bitmapSection(2, sec);
    let n = this.prefixCounts()[sec]!;
    for (let i = 0; i < byte % SECTION; i++) n += POPCOUNT[bits[i]!]!;
    return n + POPCOUNT[bits[byte % SECTION]! & ((1 << (pfn & 7)) - 1)]!;
  }

  /** One page by pfn: decompressed, zero when excluded; throws when the pfn is outside the dump. */
  page(pfn: number): Uint8Array {
    const cached = this.pages.get(pfn);
    if (cached) return cached;
    if (pfn >= this.maxMapnr || !this.bit(1, pfn)) {
      throw new FormatError(
        `pfn 0x${pfn.toString(16)} is not in the dump (no memory there)`,
        'kdump',
        undefined,
        {
          hint: "the address lies outside the crashed system's RAM",
        },
      );
    }
    let data: Uint8Array;
    if (!this.bit(2, pfn)) data = new Uint8Array(this.pageSize);
    else {
      let index = this.descIndex(pfn);
      if (this.split) {
        const { start, end } = this.split;
        if (pfn < start || pfn >= end) {
          throw new FormatError(
            `pfn 0x${pfn.toString(16)} is in another part of this split dump (this part holds pfns 0x${start.toString(16)}-0x${end.toString(16)})`,
            'kdump',
            undefined,
            {
              hint: 'open all parts together with crash, or join them: makedumpfile --reassemble PART... OUT',
            },
          );
        }
        if (this.splitBase < 0) this.splitBase = this.descIndex(start);
        index -= this.splitBase;
      }
      const d = PageDesc.decode(this.reader.read(this.descStart + PAGE_DESC_SIZE * index, PAGE_DESC_SIZE));
      if (d.offset === 0n) {
        throw new FormatError(`pfn 0x${pfn.toString(16)} was not written (incomplete dump)`, 'kdump');
      }
      const size = bounded(d.size, this.pageSize, 'page_desc.size', 'kdump');
      const at = bounded(d.offset, Number.MAX_SAFE_INTEGER, 'page_desc.offset', 'kdump');
      data = decompressPage(this.reader.read(at, size), d.flags, this.pageSize);
    }
    if (this.pages.size >= PAGE_CACHE) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(pfn, data);
    return data;
  }

  readPhys(paddr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const ps = BigInt(this.pageSize);
    for (let done = 0; done < length; ) {
      const pa = paddr + BigInt(done);
      const within = Number(pa % ps);
      const n = Math.min(this.pageSize - within, length - done);
      out.set(this.page(Number(pa / ps)).subarray(within, within + n), done);
      done += n;
    }
    return out;
  }

  private physBase(): bigint {
    return this.vmcoreinfo?.numbers['phys_base'] ?? this.sub.phys_base;
  }

  /** Physical address of `va`: kernel text, NUMBER(PAGE_OFFSET), else the x86_64 page tables. */
  virtToPhys(va: bigint): bigint | undefined {
    const numbers = this.vmcoreinfo?.numbers ?? {};
    const x86 = this.arch === ELF_MACHINES[EM_X86_64];
    if (x86) {
      const imageSize = numbers['KERNEL_IMAGE_SIZE'] ?? DEFAULT_KERNEL_IMAGE_SIZE;
      if (va >= START_KERNEL_MAP && va < u64(START_KERNEL_MAP + imageSize)) {
        return u64(va - START_KERNEL_MAP + this.physBase());
      }
    }
    const given = numbers['PAGE_OFFSET'];
    if (given !== undefined && va >= u64(given)) return u64(va - u64(given) + (numbers['PHYS_OFFSET'] ?? 0n));
    const top = this.vmcoreinfo?.symbols['init_top_pgt'];
    if (!x86 || top === undefined) return undefined;
    this.pageTables ??= new X86_64PageTables(
      this.vmcoreinfo,
      { readPhys: (pa, n) => this.readPhys(pa, n) },
      this.sub.phys_base,
    );
    return this.pageTables.translate(va)?.paddr;
  }

  readVirt(vaddr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const va = u64(vaddr + BigInt(done));
      const pa = this.virtToPhys(va);
      if (pa === undefined) {
        throw new FormatError(`vaddr 0x${va.toString(16)} is not mapped`, 'kdump', undefined, {
          hint: "the crashed kernel's page tables (SYMBOL(init_top_pgt)) do not map it",
        });
      }
      const n = Math.min(this.pageSize - Number(va % BigInt(this.pageSize)), length - done);
      out.set(this.readPhys(pa, n), done);
      done += n;
    }
    return out;
  }

  /**
   * page_offset: NUMBER(PAGE_OFFSET) when exported; on x86_64 the difference between a direct-map
   * address VMCOREINFO names (SYMBOL(mem_section), allocated from memblock) and its physical address,
   * accepted only when it has the 1 GiB alignment KASLR gives the direct map.
   */
  directMapBase(): bigint | undefined {
    const info = this.vmcoreinfo;
    const given = info?.numbers['PAGE_OFFSET'];
    if (given !== undefined) return u64(given);
    const probe = info?.symbols['mem_section'];
    if (probe === undefined || probe >= START_KERNEL_MAP) return undefined;
    try {
      const pa = this.virtToPhys(probe);
      if (pa === undefined) return undefined;
      const base = u64(probe - pa);
      return base % DIRECT_MAP_ALIGN === 0n ? base : undefined;
    } catch {
      return undefined;
    }
  }
}
