// Where the running x86_64 kernel maps itself: the direct-map base (page_offset_base, randomized by
// CONFIG_RANDOMIZE_MEMORY, 0xff11... with 5-level paging) and the kernel-text mapping (__START_KERNEL_map
// plus the KASLR offset). Read from /proc/kcore's program headers as kexec-tools does
// (crashdump-x86.c get_kernel_vaddr_and_size), with /proc/kallsyms' _stext to pick the text segment.
import { FileError, FormatError, StateError } from '../../errors.js';
import { decodeElfHeader, ELFCLASS64, EM_X86_64, ET_CORE } from '../../formats/elf/ehdr.js';
import { decodeProgramHeaders, type ElfPhdr, MAX_PHNUM, PT_LOAD } from '../../formats/elf/phdr.js';
import type { Sys } from '../../sys/types.js';
import { alignDown, alignUp, GiB, hex, MiB, PAGE_SIZE } from '../memory/ranges.js';

export const PROC_KCORE = '/proc/kcore';
export const PROC_KALLSYMS = '/proc/kallsyms';
/** arch/x86/include/asm/page_64_types.h: the kernel image is mapped from here. */
export const START_KERNEL_MAP = 0xffff_ffff_8000_0000n;
/** KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE (page_64_types.h): text lies below START + 1 GiB. */
export const KERNEL_IMAGE_SIZE = GiB;
/** kexec-tools X86_64_KERN_VADDR_ALIGN: the text segment's start is rounded down to 1 MiB. */
export const KERNEL_VADDR_ALIGN = MiB;
/** PUD size: the direct map's randomized base is PUD aligned (arch/x86/mm/kaslr.c). */
export const PUD_SIZE = GiB;
const EHDR64_SIZE = 64;
const PHDR64_SIZE = 56;
/** fs/proc/kcore.c sets p_paddr to -1 for segments without a physical address (vmalloc, vmemmap). */
const NO_PADDR = 0xffff_ffff_ffff_ffffn;

export interface KernelLayout {
  /** Direct-map base: __va(paddr) = pageOffset + paddr. */
  pageOffset: bigint;
  /** How pageOffset was found. */
  pageOffsetFrom: 'kcore-ram' | 'kcore-lowest';
  /** Kernel text PT_LOAD: virtual start (1 MiB aligned) and page-rounded size. */
  textVaddr: bigint;
  textSize: bigint;
  textFrom: 'kallsyms-_stext' | 'kcore-bounds';
}

/** The program headers of /proc/kcore: its ELF header, then only the program header table (pread). */
export function readKcoreLoads(sys: Pick<Sys, 'readRange'>): ElfPhdr[] {
  const head = sys.readRange(PROC_KCORE, 0, EHDR64_SIZE);
  const h = decodeElfHeader(head);
  if (h.ei_class !== ELFCLASS64 || h.e_type !== ET_CORE || h.e_machine !== EM_X86_64) {
    throw new FormatError(
      `${PROC_KCORE} is not an x86_64 ELF64 core (class ${h.ei_class}, type ${h.e_type}, machine ${h.e_machine})`,
      'elf',
    );
  }
  if (h.e_phnum > MAX_PHNUM) throw new FormatError(`${PROC_KCORE}: e_phnum ${h.e_phnum}`, 'elf', 56);
  const table = sys.readRange(PROC_KCORE, Number(h.e_phoff), h.e_phnum * PHDR64_SIZE);
  return decodeProgramHeaders(table, { ...h, e_phoff: 0n });
}

/** _stext from /proc/kallsyms ("ffffffffa5800000 T _stext"); undefined when absent or hidden (zeros). */
export function kallsymsStext(text: string | undefined): bigint | undefined {
  const m = /^([0-9a-f]+) [Tt] _stext$/m.exec(text ?? '');
  const v = m ? BigInt(`0x${m[1]}`) : 0n;
  return v === 0n ? undefined : v;
}

/**
 * pageOffset: from a RAM segment (p_paddr set, below the text map) as p_vaddr - p_paddr; kernels that
 * leave p_paddr unset get kexec-tools' rule, the lowest PT_LOAD address rounded down to a PUD (the direct
 * map lies below vmalloc, vmemmap and the text). The text segment: the PT_LOAD holding _stext, else the
 * one inside [START_KERNEL_MAP, + KERNEL_IMAGE_SIZE); its start rounded down to 1 MiB, its end up to a page.
 */
export function kernelLayoutFromKcore(phdrs: readonly ElfPhdr[], stext: bigint | undefined): KernelLayout {
  const loads = phdrs.filter((p) => p.p_type === PT_LOAD);
  const ram = loads.filter(
    (p) =>
      p.p_vaddr < START_KERNEL_MAP && p.p_paddr !== NO_PADDR && p.p_paddr !== 0n && p.p_vaddr > p.p_paddr,
  );
  let pageOffset: bigint;
  let pageOffsetFrom: KernelLayout['pageOffsetFrom'];
  if (ram.length > 0) {
    const bases = new Set(ram.map((p) => p.p_vaddr - p.p_paddr));
    if (bases.size !== 1) {
      throw new FormatError(
        `${PROC_KCORE}: RAM segments disagree on the direct-map base (${[...bases].map(hex).join(', ')})`,
        'elf',
      );
    }
    pageOffset = [...bases][0]!;
    pageOffsetFrom = 'kcore-ram';
  } else {
    const lowest = loads.reduce<bigint | undefined>(
      (lo, p) => (lo === undefined || p.p_vaddr < lo ? p.p_vaddr : lo),
      undefined,
    );
    if (lowest === undefined) throw new FormatError(`${PROC_KCORE} has no PT_LOAD`, 'elf');
    pageOffset = alignDown(lowest, PUD_SIZE);
    pageOffsetFrom = 'kcore-lowest';
  }
  const contains = (p: ElfPhdr, va: bigint) => p.p_vaddr <= va && va < p.p_vaddr + p.p_memsz;
  let text = stext === undefined ? undefined : loads.find((p) => contains(p, stext));
  const textFrom: KernelLayout['textFrom'] = text ? 'kallsyms-_stext' : 'kcore-bounds';
  text ??= loads.find(
    (p) => p.p_vaddr >= START_KERNEL_MAP && p.p_vaddr + p.p_memsz <= START_KERNEL_MAP + KERNEL_IMAGE_SIZE,
  );
  if (!text) {
    throw new StateError(`no kernel text segment in ${PROC_KCORE}`, {
      hint: 'the running kernel hides its text mapping; kexec_file_load (-s) builds the headers in the kernel',
    });
  }
  const textVaddr = alignDown(text.p_vaddr, KERNEL_VADDR_ALIGN);
  const textSize = alignUp(text.p_vaddr + text.p_memsz - textVaddr, PAGE_SIZE);
  return { pageOffset, pageOffsetFrom, textVaddr, textSize, textFrom };
}

/** The running kernel's layout; FileError (with a hint) when /proc/kcore cannot be read. */
export function readKernelLayout(sys: Pick<Sys, 'readRange' | 'readText'>): KernelLayout {
  let loads: ElfPhdr[];
  try {
    loads = readKcoreLoads(sys);
  } catch (err) {
    if (err instanceof FileError) {
      throw new FileError(PROC_KCORE, err.errno, {
        cause: err,
        hint: 'the kdump headers need the kernel layout from /proc/kcore (root, CONFIG_PROC_KCORE, no lockdown); kexec_file_load (-s -p) needs none of it',
      });
    }
    throw err;
  }
  return kernelLayoutFromKcore(loads, kallsymsStext(sys.readText(PROC_KALLSYMS)));
}
