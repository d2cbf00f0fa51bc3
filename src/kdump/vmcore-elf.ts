// An ELF vmcore (ET_CORE, as /proc/vmcore presents it; layout from fs/proc/vmcore.c): program headers,
// notes (NT_PRSTATUS per CPU, VMCOREINFO), and kernel virtual addresses mapped to file offsets. Only
// the headers and notes are read up front; memory is read on demand through the RandomAccessReader.
import { bounded } from '../binary/bounds.js';
import { FormatError } from '../errors.js';
import {
  decodeElfHeader,
  ELF_MACHINES,
  ELFCLASS64,
  type ElfHeader,
  EM_X86_64,
  ET_CORE,
} from '../formats/elf/ehdr.js';
import { iterateNotes } from '../formats/elf/note.js';
import { decodeProgramHeaders, type ElfPhdr, MAX_PHNUM, PT_LOAD, PT_NOTE } from '../formats/elf/phdr.js';
import { type CpuState, decodePrstatusX86_64, NT_PRSTATUS } from './prstatus.js';
import type { RandomAccessReader } from './reader.js';
import { parseVmcoreinfo, type Vmcoreinfo, vmcoreinfoText } from './vmcoreinfo.js';

/** Elf64_Ehdr and Elf64_Phdr sizes (gABI). */
const EHDR64_SIZE = 64;
const PHDR64_SIZE = 56;
/** Notes are one NT_PRSTATUS (336 bytes) per CPU plus a page of VMCOREINFO; 16 MiB is ample. */
export const MAX_NOTE_SEGMENT = 16 << 20;
/** The VMCOREINFO note's name and type (kernel/vmcore_info.c). */
export const VMCOREINFO_NOTE_NAME = 'VMCOREINFO';
/** x86_64 __START_KERNEL_map (arch/x86/include/asm/page_64_types.h): kernel text is mapped from here. */
export const START_KERNEL_MAP = 0xffff_ffff_8000_0000n;
/** KERNEL_IMAGE_SIZE default when VMCOREINFO lacks NUMBER(KERNEL_IMAGE_SIZE): 1 GiB with KASLR. */
const DEFAULT_KERNEL_IMAGE_SIZE = 1n << 30n;

const u64 = (n: bigint) => BigInt.asUintN(64, n);

export interface LoadSegment {
  index: number;
  paddr: bigint;
  vaddr: bigint;
  offset: bigint;
  filesz: bigint;
  memsz: bigint;
}

export interface VmcoreNote {
  name: string;
  type: number;
  /** File offset of the note header. */
  offset: number;
  desc: Uint8Array;
}

/** Where a virtual address lives: `offset` in the file, or zero-filled (beyond p_filesz). */
export interface Placement {
  /** File offset, or undefined when the bytes are zero-filled memory not stored in the file. */
  offset: number | undefined;
  /** Bytes from here to the end of this placement. */
  span: number;
  via: 'vaddr' | 'kernel-text' | 'direct-map' | 'paddr';
}

/** Reads kernel memory by virtual address; what the dmesg readers need. */
export interface KernelMemory {
  readVirt(vaddr: bigint, length: number): Uint8Array;
}

export class ElfVmcore implements KernelMemory {
  readonly format = 'elf64';
  readonly arch: string | undefined;
  readonly loads: LoadSegment[];
  readonly notes: VmcoreNote[] = [];
  readonly cpus: CpuState[] = [];
  readonly vmcoreinfo: Vmcoreinfo | undefined;
  readonly vmcoreinfoRaw: string | undefined;

  constructor(
    readonly reader: RandomAccessReader,
    readonly header: ElfHeader,
    readonly phdrs: ElfPhdr[],
  ) {
    this.arch = ELF_MACHINES[header.e_machine];
    this.loads = phdrs.flatMap((p, index) =>
      p.p_type === PT_LOAD
        ? [
            {
              index,
              paddr: p.p_paddr,
              vaddr: p.p_vaddr,
              offset: p.p_offset,
              filesz: p.p_filesz,
              memsz: p.p_memsz,
            },
          ]
        : [],
    );
    for (const p of phdrs) {
      if (p.p_type !== PT_NOTE) continue;
      const size = bounded(p.p_filesz, MAX_NOTE_SEGMENT, 'PT_NOTE p_filesz', 'vmcore');
      const base = bounded(p.p_offset, Number.MAX_SAFE_INTEGER, 'PT_NOTE p_offset', 'vmcore');
      const data = reader.read(base, size);
      for (const n of iterateNotes(data, header.endian)) {
        this.notes.push({ name: n.name, type: n.type, offset: base + n.offset, desc: n.desc.slice() });
      }
    }
    for (const n of this.notes) {
      if (n.name === 'CORE' && n.type === NT_PRSTATUS && header.e_machine === EM_X86_64) {
        this.cpus.push(decodePrstatusX86_64(n.desc, this.cpus.length));
      }
    }
    const info = this.notes.find((n) => n.name === VMCOREINFO_NOTE_NAME && n.type === 0);
    if (info) {
      this.vmcoreinfoRaw = vmcoreinfoText(info.desc);
      this.vmcoreinfo = parseVmcoreinfo(this.vmcoreinfoRaw);
    }
  }

  /** Where `vaddr` is stored: first a PT_LOAD covering it by p_vaddr (as vmcore-dmesg does), then the
   *  x86_64 kernel-text and direct-map rules to a physical address covered by a PT_LOAD's p_paddr. */
  place(vaddr: bigint): Placement | undefined {
    const va = u64(vaddr);
    for (const s of this.loads) {
      if (s.vaddr <= va && va < s.vaddr + s.memsz) return within(s, va - s.vaddr, 'vaddr');
    }
    const phys = this.virtToPhys(va);
    if (!phys) return undefined;
    const p = this.placePhys(phys.paddr);
    return p && { ...p, via: phys.via };
  }

  placePhys(paddr: bigint): Placement | undefined {
    for (const s of this.loads) {
      if (s.paddr <= paddr && paddr < s.paddr + s.memsz) return within(s, paddr - s.paddr, 'paddr');
    }
    return undefined;
  }

  /** x86_64 rules (makedumpfile arch/x86_64.c, Documentation/arch/x86/x86_64/mm.rst); others: PAGE_OFFSET. */
  virtToPhys(va: bigint): { paddr: bigint; via: Placement['via'] } | undefined {
    const numbers = this.vmcoreinfo?.numbers ?? {};
    if (this.header.e_machine === EM_X86_64) {
      const imageSize = numbers['KERNEL_IMAGE_SIZE'] ?? DEFAULT_KERNEL_IMAGE_SIZE;
      if (va >= START_KERNEL_MAP && va < u64(START_KERNEL_MAP + imageSize)) {
        const physBase = numbers['phys_base'] ?? this.textPhysBase();
        if (physBase === undefined) return undefined;
        return { paddr: u64(va - START_KERNEL_MAP + physBase), via: 'kernel-text' };
      }
    }
    const given = numbers['PAGE_OFFSET']; // printed with %ld: negative for a high address
    const pageOffset = given === undefined ? this.directMapBase() : u64(given);
    if (pageOffset === undefined || va < pageOffset) return undefined;
    return { paddr: u64(va - pageOffset + (numbers['PHYS_OFFSET'] ?? 0n)), via: 'direct-map' };
  }

  /** page_offset from the last direct-map PT_LOAD (p_vaddr - p_paddr), as makedumpfile derives it. */
  directMapBase(): bigint | undefined {
    let base: bigint | undefined;
    for (const s of this.loads) {
      if (s.vaddr !== 0n && s.vaddr < START_KERNEL_MAP && s.vaddr >= s.paddr) base = s.vaddr - s.paddr;
    }
    return base;
  }

  /** phys_base from the kernel-text PT_LOAD when VMCOREINFO lacks NUMBER(phys_base). */
  private textPhysBase(): bigint | undefined {
    const t = this.loads.find((s) => s.vaddr >= START_KERNEL_MAP);
    return t && u64(t.paddr - (t.vaddr - START_KERNEL_MAP));
  }

  /** `length` bytes of kernel memory at `vaddr`, across segment boundaries; throws if any byte is absent. */
  readVirt(vaddr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const va = u64(vaddr + BigInt(done));
      const p = this.place(va);
      if (!p || p.span <= 0) {
        throw new FormatError(`no PT_LOAD covers vaddr 0x${va.toString(16)}`, 'vmcore', undefined, {
          hint: 'the dump lacks this memory (filtered out, or outside every program header)',
        });
      }
      const n = Math.min(p.span, length - done);
      if (p.offset !== undefined) out.set(this.reader.read(p.offset, n), done);
      done += n;
    }
    return out;
  }

  get littleEndian(): boolean {
    return this.header.endian === 'le';
  }

  /** `length` bytes at physical `paddr` through the PT_LOADs' p_paddr; throws if any byte is absent. */
  readPhys(paddr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const pa = paddr + BigInt(done);
      const p = this.placePhys(pa);
      if (!p || p.span <= 0) {
        throw new FormatError(`no PT_LOAD covers paddr 0x${pa.toString(16)}`, 'vmcore');
      }
      const n = Math.min(p.span, length - done);
      if (p.offset !== undefined) out.set(this.reader.read(p.offset, n), done);
      done += n;
    }
    return out;
  }

  readU64(vaddr: bigint): bigint {
    const b = this.readVirt(vaddr, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, this.header.endian === 'le');
  }
  readU32(vaddr: bigint): number {
    const b = this.readVirt(vaddr, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, this.header.endian === 'le');
  }
}

function within(s: LoadSegment, off: bigint, via: Placement['via']): Placement {
  if (off < s.filesz) {
    return { offset: Number(s.offset + off), span: Number(s.filesz - off), via };
  }
  return { offset: undefined, span: Number(s.memsz - off), via };
}

/** Reads and checks the ELF header and program headers; notes are decoded by ElfVmcore. */
export function openElfVmcore(reader: RandomAccessReader): ElfVmcore {
  const head = reader.read(0, Math.min(reader.size, EHDR64_SIZE));
  const header = decodeElfHeader(head);
  if (header.ei_class !== ELFCLASS64) {
    throw new FormatError('not an ELF64 core: only ELFCLASS64 vmcores are supported', 'vmcore', 4);
  }
  if (header.e_type !== ET_CORE) {
    throw new FormatError(`e_type is ${header.e_type}, not ET_CORE (4)`, 'vmcore', 16, {
      hint: 'a vmcore is /proc/vmcore or a copy of it; kdump-compressed files are not read yet',
    });
  }
  if (header.e_phentsize !== PHDR64_SIZE) {
    throw new FormatError(`e_phentsize is ${header.e_phentsize}, expected ${PHDR64_SIZE}`, 'vmcore', 54);
  }
  const count = bounded(header.e_phnum, MAX_PHNUM, 'e_phnum', 'vmcore');
  const phoff = bounded(header.e_phoff, Number.MAX_SAFE_INTEGER, 'e_phoff', 'vmcore');
  const table = reader.read(phoff, count * PHDR64_SIZE);
  const phdrs = decodeProgramHeaders(table, { ...header, e_phoff: 0n });
  for (const p of phdrs) {
    if (p.p_type === PT_LOAD && p.p_filesz > p.p_memsz) {
      throw new FormatError(`PT_LOAD at paddr 0x${p.p_paddr.toString(16)}: p_filesz > p_memsz`, 'vmcore');
    }
  }
  return new ElfVmcore(reader, header, phdrs);
}
