// Synthetic ELF images built with the parser's own encoders.
import type { Endian } from '../../src/binary/struct.js';
import {
  ELFCLASS32,
  ELFCLASS64,
  type ElfHeader,
  EM_X86_64,
  ET_EXEC,
  encodeElfHeader,
} from '../../src/formats/elf/ehdr.js';
import { encodeNotes } from '../../src/formats/elf/note.js';
import { type ElfPhdr, encodeProgramHeaders, PT_LOAD, PT_NOTE } from '../../src/formats/elf/phdr.js';

export interface ElfSpec {
  class?: 32 | 64;
  endian?: Endian;
  machine?: number;
  type?: number;
  entry?: bigint;
  loads?: number;
  notes?: { name: string; type: number; desc: Uint8Array }[];
}

export function elfHeaderFor(spec: ElfSpec, phnum: number): ElfHeader {
  const is64 = (spec.class ?? 64) === 64;
  const ehsize = is64 ? 64 : 52;
  return {
    ei_class: is64 ? ELFCLASS64 : ELFCLASS32,
    endian: spec.endian ?? 'le',
    ei_osabi: 0,
    e_type: spec.type ?? ET_EXEC,
    e_machine: spec.machine ?? EM_X86_64,
    e_version: 1,
    e_entry: spec.entry ?? 0x1000000n,
    e_phoff: BigInt(ehsize),
    e_shoff: 0n,
    e_flags: 0,
    e_ehsize: ehsize,
    e_phentsize: is64 ? 56 : 32,
    e_phnum: phnum,
    e_shentsize: 0,
    e_shnum: 0,
    e_shstrndx: 0,
  };
}

/** An ELF with `loads` PT_LOAD segments (64 bytes each) and an optional PT_NOTE segment. */
export function buildElf(spec: ElfSpec = {}): { bytes: Uint8Array; header: ElfHeader; phdrs: ElfPhdr[] } {
  const loads = spec.loads ?? 1;
  const notes = spec.notes ? encodeNotes(spec.notes, spec.endian ?? 'le') : undefined;
  const phnum = loads + (notes ? 1 : 0);
  const header = elfHeaderFor(spec, phnum);
  let at = header.e_ehsize + phnum * header.e_phentsize;
  const phdrs: ElfPhdr[] = [];
  for (let i = 0; i < loads; i++) {
    const addr = 0x1000000n + BigInt(i) * 0x1000n;
    phdrs.push({
      p_type: PT_LOAD,
      p_flags: 5,
      p_offset: BigInt(at),
      p_vaddr: addr,
      p_paddr: addr,
      p_filesz: 64n,
      p_memsz: 64n,
      p_align: 0x1000n,
    });
    at += 64;
  }
  if (notes) {
    phdrs.push({
      p_type: PT_NOTE,
      p_flags: 4,
      p_offset: BigInt(at),
      p_vaddr: 0n,
      p_paddr: 0n,
      p_filesz: BigInt(notes.byteLength),
      p_memsz: 0n,
      p_align: 4n,
    });
    at += notes.byteLength;
  }
  const bytes = new Uint8Array(at);
  encodeElfHeader(header, bytes);
  encodeProgramHeaders(phdrs, header, bytes);
  if (notes) bytes.set(notes, Number(phdrs[phdrs.length - 1]!.p_offset));
  return { bytes, header, phdrs };
}

export interface VmlinuxLoad {
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  /** Every file byte of the segment. */
  fill: number;
}

/**
 * An x86_64 vmlinux-shaped ELF: ET_EXEC, EM_X86_64, the given PT_LOADs (file data page-aligned in the
 * file, as ld lays a vmlinux out) and e_entry.
 */
export function buildVmlinux(loads: readonly VmlinuxLoad[], entry: bigint, type = ET_EXEC): Uint8Array {
  const header = elfHeaderFor({ entry, type }, loads.length);
  let at = 0x1000;
  const phdrs: ElfPhdr[] = loads.map((l) => {
    const p: ElfPhdr = {
      p_type: PT_LOAD,
      p_flags: 7,
      p_offset: BigInt(at),
      p_vaddr: l.vaddr,
      p_paddr: l.paddr,
      p_filesz: BigInt(l.filesz),
      p_memsz: BigInt(l.memsz),
      p_align: 0x200000n,
    };
    at += Math.ceil(l.filesz / 0x1000) * 0x1000;
    return p;
  });
  const bytes = new Uint8Array(at);
  encodeElfHeader(header, bytes);
  encodeProgramHeaders(phdrs, header, bytes);
  loads.forEach((l, i) => {
    const off = Number(phdrs[i]!.p_offset);
    bytes.fill(l.fill, off, off + l.filesz);
  });
  return bytes;
}
