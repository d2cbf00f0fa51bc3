// parseElf and the elf-x86_64 probe (kexec-tools kexec/arch/x86_64/kexec-elf-x86_64.c accepts an
// ELF executable whose e_machine is EM_X86_64; the kernel's kexec_elf_probe adds ET_DYN for PIE).
import { KexecError } from '../../errors.js';
import type { Probe } from '../probe-types.js';
import {
  decodeElfHeader,
  ELF_MACHINES,
  ELFCLASS64,
  type ElfHeader,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  isElf,
} from './ehdr.js';
import { decodeProgramHeaders, type ElfPhdr, PT_LOAD } from './phdr.js';

export interface ElfImage {
  header: ElfHeader;
  phdrs: ElfPhdr[];
  arch: string | undefined;
}

/** Header plus program headers; throws FormatError/TruncatedError/LimitError on malformed input. */
export function parseElf(data: Uint8Array): ElfImage {
  const header = decodeElfHeader(data);
  const phdrs = decodeProgramHeaders(data, header);
  return { header, phdrs, arch: ELF_MACHINES[header.e_machine] };
}

export function probeElfX86_64(data: Uint8Array): Probe<ElfImage> {
  if (!isElf(data)) return { ok: false, reason: 'bad ELF magic' };
  let image: ElfImage;
  try {
    image = parseElf(data);
  } catch (e) {
    if (e instanceof KexecError) return { ok: false, reason: e.message };
    throw e;
  }
  const h = image.header;
  // One reason per rule, in the order kexec-tools checks them (machine, class, type, segments).
  if (h.e_machine !== EM_X86_64) {
    return {
      ok: false,
      reason: `e_machine is ${h.e_machine} (${image.arch ?? 'unknown'}), not EM_X86_64 (62)`,
    };
  }
  if (h.ei_class !== ELFCLASS64) return { ok: false, reason: 'EM_X86_64 image is not ELFCLASS64' };
  if (h.e_type !== ET_EXEC && h.e_type !== ET_DYN) {
    return { ok: false, reason: `e_type is ${h.e_type}, not ET_EXEC (2) or ET_DYN (3)` };
  }
  // kexec_load copies PT_LOAD segments only; an ELF without one has nothing to load.
  if (!image.phdrs.some((p) => p.p_type === PT_LOAD)) return { ok: false, reason: 'no PT_LOAD segment' };
  return { ok: true, header: image };
}
