// The ELF core headers handed to the capture kernel (elfcorehdr=): an ET_CORE ELF64 header and program
// headers only, no data. Each PT_NOTE and PT_LOAD names physical memory of the crashed kernel, with
// p_offset = p_paddr; the capture kernel's fs/proc/vmcore.c merges the notes and turns the offsets into
// file offsets of /proc/vmcore. Order and fields as kexec-tools' kexec/crashdump-elf.c
// (crash_create_elf64_headers: per-CPU notes, VMCOREINFO, kernel text, RAM), checked against the headers
// kexec-tools' `kexec -p` built on the lab's Debian 6.1 guest (test/unit/kexec/crash-load.test.ts).
import { ELFCLASS64, type ElfHeader, EM_X86_64, ET_CORE, encodeElfHeader } from '../../formats/elf/ehdr.js';
import { type ElfPhdr, encodeProgramHeaders, PT_LOAD, PT_NOTE } from '../../formats/elf/phdr.js';
import { type AddressRange, alignUp } from '../memory/ranges.js';
import type { CpuNote, NoteRange } from './notes.js';

/** gABI sizes of Elf64_Ehdr and Elf64_Phdr. */
export const EHDR64_SIZE = 64;
export const PHDR64_SIZE = 56;
/**
 * kexec-tools ELF_CORE_HEADER_ALIGN: the buffer is a multiple of 1 KiB, because elfcorehdr= (and the
 * memmap= form of old) take KiB. The kernel reads e_phnum entries and ignores the padding.
 */
export const ELF_CORE_HEADER_ALIGN = 1024n;
/** PF_R | PF_W | PF_X (gABI "Segment Permissions"), as kexec-tools and the kernel mark dump segments. */
export const PF_RWX = 7;

export interface ElfcorehdrInput {
  cpuNotes: readonly CpuNote[];
  vmcoreinfo: NoteRange | undefined;
  /** The kernel-text PT_LOAD, when known: physical start, virtual start, size. */
  text: { paddr: bigint; vaddr: bigint; size: bigint } | undefined;
  /** RAM to dump (half-open physical ranges), in address order. */
  ram: readonly AddressRange[];
  /** Direct-map base: RAM p_vaddr = pageOffset + paddr. */
  pageOffset: bigint;
}

export function elfcorehdrPhdrs(input: ElfcorehdrInput): ElfPhdr[] {
  const note = (n: NoteRange): ElfPhdr => ({
    p_type: PT_NOTE,
    p_flags: 0,
    p_offset: n.addr,
    p_vaddr: 0n,
    p_paddr: n.addr,
    p_filesz: n.size,
    p_memsz: n.size,
    p_align: 0n,
  });
  const load = (paddr: bigint, vaddr: bigint, size: bigint): ElfPhdr => ({
    p_type: PT_LOAD,
    p_flags: PF_RWX,
    p_offset: paddr,
    p_vaddr: vaddr,
    p_paddr: paddr,
    p_filesz: size,
    p_memsz: size,
    p_align: 0n,
  });
  return [
    ...input.cpuNotes.map(note),
    ...(input.vmcoreinfo ? [note(input.vmcoreinfo)] : []),
    ...(input.text ? [load(input.text.paddr, input.text.vaddr, input.text.size)] : []),
    ...input.ram.map((r) => load(r.start, BigInt.asUintN(64, input.pageOffset + r.start), r.end - r.start)),
  ];
}

/** The header bytes: Elf64_Ehdr at 0, the program headers from 64, zero padding to 1 KiB. */
export function buildElfcorehdr(input: ElfcorehdrInput): Uint8Array {
  const phdrs = elfcorehdrPhdrs(input);
  const header: ElfHeader = {
    ei_class: ELFCLASS64,
    endian: 'le',
    ei_osabi: 0, // ELFOSABI_NONE
    e_type: ET_CORE,
    e_machine: EM_X86_64,
    e_version: 1, // EV_CURRENT
    e_entry: 0n,
    e_phoff: BigInt(EHDR64_SIZE),
    e_shoff: 0n,
    e_flags: 0,
    e_ehsize: EHDR64_SIZE,
    e_phentsize: PHDR64_SIZE,
    e_phnum: phdrs.length,
    e_shentsize: 0,
    e_shnum: 0,
    e_shstrndx: 0,
  };
  const size = alignUp(BigInt(EHDR64_SIZE + phdrs.length * PHDR64_SIZE), ELF_CORE_HEADER_ALIGN);
  const out = new Uint8Array(Number(size));
  encodeElfHeader(header, out);
  return encodeProgramHeaders(phdrs, header, out);
}
