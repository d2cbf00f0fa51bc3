// A fake machine for kdump loads: the 1 GiB QEMU guest where kexec-tools' kexec -p headers were recorded (Debian 6.1, 5-level
// paging, KASLR: direct map at 0xff34e18ec0000000, _text at 0xffffffffa5800000 = physical 0x18000000,
// crashkernel=256M at 0x2f000000), with two CPUs, their crash_notes, VMCOREINFO and a /proc/kcore head.
import { ELFCLASS64, EM_X86_64, ET_CORE, encodeElfHeader } from '../../../src/formats/elf/ehdr.js';
import { type ElfPhdr, encodeProgramHeaders, PT_LOAD, PT_NOTE } from '../../../src/formats/elf/phdr.js';
import { FakeSys } from '../../../src/sys/fake.js';

export const PAGE_OFFSET = 0xff34_e18e_c000_0000n;
export const TEXT_VADDR = 0xffff_ffff_a580_0000n;
export const TEXT_PADDR = 0x1800_0000n;
/** _text .. _end of the real dump's kernel-text PT_LOAD. */
export const TEXT_SIZE = 0x343_0000n;
export const CRASH = { start: 0x2f00_0000n, end: 0x3f00_0000n };
export const CPU_NOTES = [
  { addr: 0x3e81_8a00n, size: 432n },
  { addr: 0x3e91_8a00n, size: 432n },
];
export const VMCOREINFO = { addr: 0x1b0d_7000n, size: 0x1000n };

export const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000c0000-000c99ff : Video ROM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-3ffdcfff : System RAM
  18000000-18e01fff : Kernel code
  19000000-1970dfff : Kernel rodata
  19800000-19c6b6ff : Kernel data
  1a0fa000-1a7fffff : Kernel bss
  2f000000-3effffff : Crash kernel
3ffdd000-3fffffff : Reserved
b0000000-bfffffff : PCI ECAM 0000 [bus 00-ff]
  b0000000-bfffffff : Reserved
fed1c000-fed1ffff : Reserved
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
`;

const NO_PADDR = 0xffff_ffff_ffff_ffffn;
const seg = (vaddr: bigint, paddr: bigint, size: bigint, type = PT_LOAD): ElfPhdr => ({
  p_type: type,
  p_flags: 7,
  p_offset: 0x1000n,
  p_vaddr: vaddr,
  p_paddr: paddr,
  p_filesz: size,
  p_memsz: size,
  p_align: 0x1000n,
});

/** fs/proc/kcore.c's segment kinds: text, modules, RAM (direct map), vmalloc, vmemmap. */
export function kcoreLoads(withPaddr = true): ElfPhdr[] {
  const ram = (paddr: bigint, size: bigint) => seg(PAGE_OFFSET + paddr, withPaddr ? paddr : 0n, size);
  return [
    seg(0n, 0n, 0x1200n, PT_NOTE),
    seg(TEXT_VADDR, withPaddr ? TEXT_PADDR : 0n, TEXT_SIZE),
    seg(0xffff_ffff_c000_0000n, withPaddr ? NO_PADDR : 0n, 0x3f00_0000n), // modules
    ram(0x1000n, 0x9_f000n),
    ram(0x10_0000n, 0x3fed_d000n),
    seg(0xffa0_0000_0000_0000n, withPaddr ? NO_PADDR : 0n, 0x1_0000_0000_0000n), // vmalloc
    seg(0xffd4_0000_0000_0000n, withPaddr ? NO_PADDR : 0n, 0x10_0000_0000n), // vmemmap
  ];
}

/** The head of /proc/kcore: the ELF header and program headers, as the kernel prints them. */
export function kcoreHead(phdrs: ElfPhdr[]): Uint8Array {
  const header = {
    ei_class: ELFCLASS64,
    endian: 'le',
    ei_osabi: 0,
    e_type: ET_CORE,
    e_machine: EM_X86_64,
    e_version: 1,
    e_entry: 0n,
    e_phoff: 64n,
    e_shoff: 0n,
    e_flags: 0,
    e_ehsize: 64,
    e_phentsize: 56,
    e_phnum: phdrs.length,
    e_shentsize: 0,
    e_shnum: 0,
    e_shstrndx: 0,
  } as const;
  const out = new Uint8Array(64 + phdrs.length * 56 + 0x1200);
  encodeElfHeader(header, out);
  return encodeProgramHeaders(phdrs, header, out);
}

export function crashSys(
  opts: { kcore?: Uint8Array | false; kallsyms?: string; iomem?: string } = {},
): FakeSys {
  const files: Record<string, Uint8Array | string> = {
    '/proc/iomem': opts.iomem ?? IOMEM,
    '/proc/kallsyms': opts.kallsyms ?? `ffffffffa5800000 T _text\nffffffffa5800000 T _stext\n`,
    // "%pa %x": the address with 0x and 16 digits (what the lab's 6.1 guest prints).
    '/sys/kernel/vmcoreinfo': `0x${VMCOREINFO.addr.toString(16).padStart(16, '0')} ${VMCOREINFO.size.toString(16)}\n`,
    '/proc/cpuinfo': 'processor\t: 0\nflags\t\t: fpu sse2 la57\n',
  };
  if (opts.kcore !== false) files['/proc/kcore'] = opts.kcore ?? kcoreHead(kcoreLoads());
  CPU_NOTES.forEach((n, i) => {
    files[`/sys/devices/system/cpu/cpu${i}/crash_notes`] = `${n.addr.toString(16)}\n`;
    files[`/sys/devices/system/cpu/cpu${i}/crash_notes_size`] = `${n.size}\n`;
  });
  files['/sys/devices/system/cpu/possible'] = '0-1\n';
  return new FakeSys({ files });
}
