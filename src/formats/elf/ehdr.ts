// ELF file header, 32- and 64-bit, either byte order. Offsets and names from the System V gABI
// ("ELF Header", "ELF Identification") as spelt in the kernel's include/uapi/linux/elf.h.
import { startsWith } from '../../binary/bounds.js';
import { bytes, defineStruct, type Endian, u8, u16, u32, u64 } from '../../binary/struct.js';
import { FormatError } from '../../errors.js';

/** e_ident[EI_MAG0..3] = 0x7f 'E' 'L' 'F'. */
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const EI_NIDENT = 16;
/** e_ident[EI_CLASS]: ELFCLASS32 = 1, ELFCLASS64 = 2. */
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
/** e_ident[EI_DATA]: ELFDATA2LSB = 1 (little-endian), ELFDATA2MSB = 2. */
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
/** e_type values (gABI "ELF Header"). */
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;
/** e_machine values we name (gABI processor supplement registry). */
export const EM_386 = 3;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;
export const ELF_MACHINES: Readonly<Record<number, string>> = {
  [EM_386]: 'i386',
  [EM_PPC64]: 'ppc64',
  [EM_S390]: 's390',
  [EM_ARM]: 'arm',
  [EM_X86_64]: 'x86_64',
  [EM_AARCH64]: 'arm64',
  [EM_RISCV]: 'riscv',
  [EM_LOONGARCH]: 'loongarch',
};

/** The identification bytes, identical in both classes. */
export const ElfIdent = defineStruct('e_ident', {
  ei_mag: bytes(0, 4),
  ei_class: u8(4),
  ei_data: u8(5),
  ei_version: u8(6),
  ei_osabi: u8(7),
});

/** Elf64_Ehdr; one table per byte order, built from the same offsets. */
const elf64Ehdr = (e: Endian) =>
  defineStruct('Elf64_Ehdr', {
    e_type: u16(16, e), // ET_EXEC for vmlinux, ET_DYN for a PIE, ET_CORE for /proc/vmcore
    e_machine: u16(18, e),
    e_version: u32(20, e), // EV_CURRENT = 1
    e_entry: u64(24, e), // virtual entry address (physical for kexec-loaded vmlinux segments)
    e_phoff: u64(32, e), // file offset of the program header table
    e_shoff: u64(40, e), // file offset of the section header table (unused here)
    e_flags: u32(48, e),
    e_ehsize: u16(52, e), // 64 for ELF64
    e_phentsize: u16(54, e), // must be sizeof(Elf64_Phdr) = 56
    e_phnum: u16(56, e), // PN_XNUM (0xffff) escapes to section 0; rejected by the phdr reader
    e_shentsize: u16(58, e),
    e_shnum: u16(60, e),
    e_shstrndx: u16(62, e),
  });
/** Elf32_Ehdr: addresses and offsets are 4 bytes, so every field after e_version moves. */
const elf32Ehdr = (e: Endian) =>
  defineStruct('Elf32_Ehdr', {
    e_type: u16(16, e),
    e_machine: u16(18, e),
    e_version: u32(20, e),
    e_entry: u32(24, e),
    e_phoff: u32(28, e),
    e_shoff: u32(32, e),
    e_flags: u32(36, e),
    e_ehsize: u16(40, e), // 52 for ELF32
    e_phentsize: u16(42, e), // must be sizeof(Elf32_Phdr) = 32
    e_phnum: u16(44, e),
    e_shentsize: u16(46, e),
    e_shnum: u16(48, e),
    e_shstrndx: u16(50, e),
  });
export const Elf64Ehdr = { le: elf64Ehdr('le'), be: elf64Ehdr('be') } as const;
export const Elf32Ehdr = { le: elf32Ehdr('le'), be: elf32Ehdr('be') } as const;

/** A header of either class, with addresses widened to bigint. */
export interface ElfHeader {
  ei_class: typeof ELFCLASS32 | typeof ELFCLASS64;
  endian: Endian;
  ei_osabi: number;
  e_type: number;
  e_machine: number;
  e_version: number;
  e_entry: bigint;
  e_phoff: bigint;
  e_shoff: bigint;
  e_flags: number;
  e_ehsize: number;
  e_phentsize: number;
  e_phnum: number;
  e_shentsize: number;
  e_shnum: number;
  e_shstrndx: number;
}

export function isElf(data: Uint8Array): boolean {
  return startsWith(data, ELF_MAGIC);
}

/** Decode the ELF header. Throws FormatError for a bad magic/class/data, TruncatedError if short. */
export function decodeElfHeader(data: Uint8Array): ElfHeader {
  if (!isElf(data)) throw new FormatError('bad ELF magic', 'elf', 0);
  const id = ElfIdent.decode(data);
  if (id.ei_class !== ELFCLASS32 && id.ei_class !== ELFCLASS64) {
    throw new FormatError(`unknown ELF class ${id.ei_class}`, 'elf', 4);
  }
  if (id.ei_data !== ELFDATA2LSB && id.ei_data !== ELFDATA2MSB) {
    throw new FormatError(`unknown ELF data encoding ${id.ei_data}`, 'elf', 5);
  }
  const endian: Endian = id.ei_data === ELFDATA2LSB ? 'le' : 'be';
  // Both classes decode into one shape: addresses and offsets widen to bigint.
  const h = id.ei_class === ELFCLASS64 ? Elf64Ehdr[endian].decode(data) : Elf32Ehdr[endian].decode(data);
  return {
    ...h,
    ei_class: id.ei_class,
    endian,
    ei_osabi: id.ei_osabi,
    e_entry: BigInt(h.e_entry),
    e_phoff: BigInt(h.e_phoff),
    e_shoff: BigInt(h.e_shoff),
  };
}

/** Encode a header (synthetic images and round-trip tests). 32-bit addresses must fit in 32 bits. */
export function encodeElfHeader(h: ElfHeader, into?: Uint8Array): Uint8Array {
  const is64 = h.ei_class === ELFCLASS64;
  const buf = into ?? new Uint8Array(is64 ? Elf64Ehdr.le.size : Elf32Ehdr.le.size);
  ElfIdent.encode(
    {
      ei_mag: Uint8Array.from(ELF_MAGIC),
      ei_class: h.ei_class,
      ei_data: h.endian === 'le' ? ELFDATA2LSB : ELFDATA2MSB,
      ei_version: 1,
      ei_osabi: h.ei_osabi,
    },
    buf,
  );
  if (is64) Elf64Ehdr[h.endian].encode(h, buf);
  else
    Elf32Ehdr[h.endian].encode(
      { ...h, e_entry: Number(h.e_entry), e_phoff: Number(h.e_phoff), e_shoff: Number(h.e_shoff) },
      buf,
    );
  return buf;
}
