// ELF program headers (gABI "Program Header"), both classes and byte orders, names as in elf.h.
import { bounded, slice } from '../../binary/bounds.js';
import { defineStruct, type Endian, u32, u64 } from '../../binary/struct.js';
import { FormatError, KexecError } from '../../errors.js';
import { decodeElfHeader, ELFCLASS64, type ElfHeader, isElf } from './ehdr.js';

/** p_type values (gABI "Segment Types"). */
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
/** e_phnum == PN_XNUM (0xffff) means the real count lives in section 0's sh_info; we reject it. */
export const PN_XNUM = 0xffff;
/** Our cap: kernels and vmcores have a handful of segments; one per CPU note plus RAM ranges. */
export const MAX_PHNUM = 8192;

/** Elf64_Phdr: p_flags follows p_type so the 8-byte fields stay aligned. */
const elf64Phdr = (e: Endian) =>
  defineStruct('Elf64_Phdr', {
    p_type: u32(0, e),
    p_flags: u32(4, e),
    p_offset: u64(8, e), // where the segment's bytes start in the file
    p_vaddr: u64(16, e),
    p_paddr: u64(24, e), // the physical load address kexec_load uses for vmlinux
    p_filesz: u64(32, e), // bytes present in the file
    p_memsz: u64(40, e), // bytes in memory; the tail beyond p_filesz is zeroed (.bss)
    p_align: u64(48, e),
  });
/** Elf32_Phdr: p_flags comes after p_memsz. */
const elf32Phdr = (e: Endian) =>
  defineStruct('Elf32_Phdr', {
    p_type: u32(0, e),
    p_offset: u32(4, e),
    p_vaddr: u32(8, e),
    p_paddr: u32(12, e),
    p_filesz: u32(16, e),
    p_memsz: u32(20, e),
    p_flags: u32(24, e),
    p_align: u32(28, e),
  });
export const Elf64Phdr = { le: elf64Phdr('le'), be: elf64Phdr('be') } as const;
export const Elf32Phdr = { le: elf32Phdr('le'), be: elf32Phdr('be') } as const;

export interface ElfPhdr {
  p_type: number;
  p_flags: number;
  p_offset: bigint;
  p_vaddr: bigint;
  p_paddr: bigint;
  p_filesz: bigint;
  p_memsz: bigint;
  p_align: bigint;
}

function table(h: Pick<ElfHeader, 'ei_class' | 'endian'>) {
  return h.ei_class === ELFCLASS64 ? Elf64Phdr[h.endian] : Elf32Phdr[h.endian];
}

/** Decode all program headers; e_phnum is capped and e_phentsize must match the class. */
export function decodeProgramHeaders(data: Uint8Array, h: ElfHeader): ElfPhdr[] {
  if (h.e_phnum === 0) return [];
  const t = table(h);
  if (h.e_phentsize !== t.size) {
    throw new FormatError(`e_phentsize is ${h.e_phentsize}, expected ${t.size}`, 'elf', 0);
  }
  const count = bounded(h.e_phnum, Math.min(MAX_PHNUM, PN_XNUM - 1), 'e_phnum', 'elf');
  // One bounds check for the whole table; each entry is then decoded at a known-good offset.
  const area = slice(data, h.e_phoff, count * t.size, 'program headers');
  const out: ElfPhdr[] = [];
  for (let i = 0; i < count; i++) {
    const p = t.decode(area, i * t.size);
    out.push({
      p_type: p.p_type,
      p_flags: p.p_flags,
      p_offset: BigInt(p.p_offset),
      p_vaddr: BigInt(p.p_vaddr),
      p_paddr: BigInt(p.p_paddr),
      p_filesz: BigInt(p.p_filesz),
      p_memsz: BigInt(p.p_memsz),
      p_align: BigInt(p.p_align),
    });
  }
  return out;
}

/** Encode program headers at h.e_phoff into `into` (synthetic images, round trips). */
export function encodeProgramHeaders(phdrs: readonly ElfPhdr[], h: ElfHeader, into: Uint8Array): Uint8Array {
  const t = table(h);
  const base = Number(h.e_phoff);
  phdrs.forEach((p, i) => {
    const at = base + i * t.size;
    if (h.ei_class === ELFCLASS64) Elf64Phdr[h.endian].encode(p, into, at);
    else {
      const narrow = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Number(v)]));
      Elf32Phdr[h.endian].encode(narrow, into, at);
    }
  });
  return into;
}

/** The bytes a segment occupies in the file (p_offset, p_filesz), bounds-checked. */
export function segmentBytes(data: Uint8Array, p: ElfPhdr): Uint8Array {
  return slice(data, p.p_offset, p.p_filesz, 'segment');
}

/**
 * The program interpreter (PT_INTERP: the dynamic loader's path) of an ELF executable, from its first
 * bytes; undefined for a static or non-ELF file, or when the headers lie beyond `head`.
 */
export function elfInterpreter(head: Uint8Array): string | undefined {
  if (!isElf(head)) return undefined;
  try {
    const interp = decodeProgramHeaders(head, decodeElfHeader(head)).find((p) => p.p_type === PT_INTERP);
    if (!interp) return undefined;
    return new TextDecoder('latin1').decode(segmentBytes(head, interp)).replace(/\0.*$/s, '');
  } catch (e) {
    if (e instanceof KexecError) return undefined;
    throw e;
  }
}
