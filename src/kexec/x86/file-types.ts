// `-t TYPE` / `--type=TYPE` on x86_64: kexec-tools' file_type[] names in its probe order
// (kexec/arch/x86_64/kexec-x86_64.c) and my_load()'s rules (kexec/kexec.c): an unknown name is
// "Unsupported kernel type T"; a known one whose probe rejects the file is "Wrong file type T, file
// matches type U" (U the first type in this order that accepts it) or "Cannot determine the file type";
// all three exit 255 (my_load returns -1) before any syscall. kexec-ts loads bzImage64, elf-x86_64
// and (through the image inside) uki; the other names are recognised so the errors match.
import { FormatError, UsageError } from '../../errors.js';
import { ELFCLASS32, EM_386, ET_EXEC } from '../../formats/elf/ehdr.js';
import { parseElf, probeElfX86_64 } from '../../formats/elf/probe.js';
import { PROBES, type ProbeMatch } from '../../formats/probe.js';
import type { X86_64Loader } from './plan-from-sys.js';

export interface X86FileType {
  /** kexec-tools' name for it. */
  name: string;
  probe(bytes: Uint8Array): boolean;
  /** What kexec-ts does with it on the kexec_load path. */
  loader: X86_64Loader | 'uki' | undefined;
}

const ours = (name: ProbeMatch['name']) => {
  const p = PROBES.find((x) => x.name === name)!;
  return (bytes: Uint8Array) => p.probe(bytes).ok;
};

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

/** kexec-tools' elf-x86 (kexec-elf-x86.c): an ELF executable for EM_386. */
function probeElfX86(bytes: Uint8Array): boolean {
  if (probeElfX86_64(bytes).ok) return false;
  try {
    const h = parseElf(bytes).header;
    return h.ei_class === ELFCLASS32 && h.e_machine === EM_386 && h.e_type === ET_EXEC;
  } catch {
    return false;
  }
}

/** kexec-tools' x86_64 file_type[] in probe order. beoboot and nbi are told by their magic only. */
export const X86_64_FILE_TYPES: readonly X86FileType[] = [
  { name: 'multiboot2-x86', probe: ours('multiboot2'), loader: undefined },
  { name: 'elf-x86_64', probe: ours('elf-x86_64'), loader: 'elf-x86_64' },
  { name: 'multiboot-x86', probe: ours('multiboot'), loader: undefined },
  { name: 'elf-x86', probe: probeElfX86, loader: undefined },
  { name: 'bzImage64', probe: ours('bzImage64'), loader: 'bzImage64' },
  { name: 'bzImage', probe: ours('bzImage'), loader: undefined },
  // include/boot/beoboot.h: "BeoB", then arch 1 (i386).
  { name: 'beoboot-x86', probe: (b) => startsWith(b, [0x42, 0x65, 0x6f, 0x42, 1]), loader: undefined },
  // kexec/arch/i386/kexec-nbi.c NBI_MAGIC.
  { name: 'nbi-x86', probe: (b) => startsWith(b, [0x36, 0x13, 0x03, 0x1b]), loader: undefined },
  { name: 'uki', probe: ours('uki'), loader: 'uki' },
];

/**
 * The forced type's loader for `bytes` (the file after whole-file decompression), or the error
 * kexec-tools gives. `file` names the kernel in the messages.
 */
export function forcedType(type: string, bytes: Uint8Array, file: string): X86_64Loader | 'uki' {
  const t = X86_64_FILE_TYPES.find((x) => x.name === type);
  if (!t) {
    throw new FormatError(`Unsupported kernel type ${type}`, 'image', undefined, {
      hint: `x86_64 types: ${X86_64_FILE_TYPES.map((x) => x.name).join(', ')}`,
    });
  }
  if (!t.probe(bytes)) {
    const other = X86_64_FILE_TYPES.find((x) => x.probe(bytes));
    if (!other) throw new FormatError(`Cannot determine the file type of ${file}`, 'image');
    throw new FormatError(`Wrong file type ${type}, file matches type ${other.name}`, 'image', undefined, {
      hint: other.loader ? `drop -t, or use -t ${other.name}` : undefined,
    });
  }
  if (!t.loader) {
    throw new UsageError(`kexec_load (-c) has no ${type} loader in this version of kexec-ts`, {
      hint: type.startsWith('multiboot')
        ? 'multiboot images are not loaded by kexec-ts; use kexec-tools for them'
        : 'kexec-ts loads bzImage64, elf-x86_64 (vmlinux) and uki on x86_64',
    });
  }
  return t.loader;
}
