// planElfX86_64Load: an uncompressed x86_64 vmlinux (ELF64, EM_X86_64) on the kexec_load path, like
// kexec-tools' elf-x86_64 loader with --args-linux (kexec/arch/x86_64/kexec-elf-x86_64.c): every PT_LOAD
// at its physical address p_paddr, the purgatory jumping to e_entry (the kernel proper's startup_64,
// arch/x86/kernel/head_64.S, which takes boot_params in %rsi like the decompressor's entry), and the
// same boot_params as a bzImage gets, with a setup header we make up since a vmlinux has none.
import { FormatError, LayoutError } from '../../errors.js';
import { SetupHeader } from '../../formats/bzimage/setup-header.js';
import { ELFCLASS64, EM_X86_64, ET_EXEC } from '../../formats/elf/ehdr.js';
import { PT_INTERP, PT_LOAD, segmentBytes } from '../../formats/elf/phdr.js';
import { parseElf } from '../../formats/elf/probe.js';
import { alignUp, hex, PAGE_SIZE } from '../memory/ranges.js';
import { HDR_OFFSET } from './boot-params.js';
import { type KexecPlan, type Linux64LoadOptions, planLinux64Load } from './bzimage64-load.js';

// The header fields the kernel proper reads, with the values an x86_64 bzImage's header.S carries
// (arch/x86/boot/header.S): root_flags = ROOT_RDONLY, initrd_addr_max = 0x7fffffff, cmdline_size =
// COMMAND_LINE_SIZE - 1. version only has to be nonzero (head64.c takes a zero version to mean "not
// copied yet"); we claim 2.12, the protocol whose 64-bit fields (ext_ramdisk_*, ext_cmd_line_ptr) we fill.
const ROOT_RDONLY = 1;
export const ELF_INITRD_ADDR_MAX = 0x7fffffff;
export const ELF_CMDLINE_SIZE = 2047;
export const ELF_HEADER_VERSION = 0x020c;
/** loadflags LOADED_HIGH: the protected-mode code is at 1 MiB or above (boot.rst). */
const LOADED_HIGH = 1;

const fail = (what: string, hint?: string): never => {
  throw new FormatError(`not a loadable x86_64 vmlinux: ${what}`, 'elf-x86_64', undefined, {
    hint: hint ?? 'kexec_load (-c) loads an ELF64 EM_X86_64 executable (vmlinux) at its physical addresses',
  });
};

/** The zero page's setup header bytes (0x1f1 on) for a vmlinux. */
export function elfSetupHeader(): Uint8Array {
  const zp = SetupHeader.encode(
    {
      root_flags: ROOT_RDONLY,
      header: 'HdrS',
      version: ELF_HEADER_VERSION,
      initrd_addr_max: ELF_INITRD_ADDR_MAX,
      cmdline_size: ELF_CMDLINE_SIZE,
    },
    new Uint8Array(0x26c),
  );
  return zp.subarray(HDR_OFFSET);
}

export function planElfX86_64Load(opts: Linux64LoadOptions): KexecPlan {
  const elf = parseElf(opts.image);
  const h = elf.header;
  if (h.e_machine !== EM_X86_64) fail(`e_machine is ${h.e_machine}, not EM_X86_64 (62)`);
  if (h.ei_class !== ELFCLASS64) fail('not ELFCLASS64');
  // kexec-tools would relocate an ET_DYN as a whole; a vmlinux is always ET_EXEC.
  if (h.e_type !== ET_EXEC) fail(`e_type is ${h.e_type}, not ET_EXEC (2)`);
  if (elf.phdrs.some((p) => p.p_type === PT_INTERP)) fail('it asks for an ELF interpreter (PT_INTERP)');
  const loads = elf.phdrs.filter((p) => p.p_type === PT_LOAD && p.p_memsz > 0n);
  if (loads.length === 0) fail('no PT_LOAD segment');
  for (const p of loads) {
    // kexec_load takes page-aligned destinations only (kernel/kexec_core.c sanity_check_segment_list).
    if (p.p_paddr % PAGE_SIZE !== 0n) fail(`PT_LOAD at physical ${hex(p.p_paddr)} is not page aligned`);
  }
  const entry64 = physicalEntry(h.e_entry, loads);
  const len = Buffer.byteLength(opts.cmdline);
  if (len > ELF_CMDLINE_SIZE) {
    fail(`command line is ${len} bytes; at most ${ELF_CMDLINE_SIZE}`, 'shorten --append/--command-line');
  }
  return planLinux64Load(opts, {
    setupHeader: elfSetupHeader(),
    loadflags: LOADED_HIGH,
    // Unknown without a setup header (XLF_CAN_BE_LOADED_ABOVE_4G): keep everything below 4 GiB.
    above4G: false,
    initrdAddrMax: BigInt(ELF_INITRD_ADDR_MAX),
    // XLF_EFI_KEXEC lives in the bzImage header only; kexec-tools gives an ELF no EFI hand-off either.
    efiKexec: false,
    place: (_planner, _high, add) => {
      for (const p of loads) {
        const buf = segmentBytes(opts.image, p).subarray(0, Number(p.p_memsz));
        // A vmlinux has no relocations we could apply: the linked physical address or nothing.
        try {
          add(buf, p.p_memsz, { min: p.p_paddr, max: p.p_paddr + alignUp(p.p_memsz, PAGE_SIZE) });
        } catch (err) {
          if (!(err instanceof LayoutError)) throw err;
          throw new LayoutError(
            `vmlinux PT_LOAD ${hex(p.p_paddr)}-${hex(p.p_paddr + p.p_memsz - 1n)} (its linked physical address) is not free RAM: ${err.message}`,
            {
              hint: 'a vmlinux cannot be moved; load the bzImage instead, or widen --mem-min/--mem-max',
              cause: err,
            },
          );
        }
      }
      let mem = loads[0]!.p_paddr; // the lowest segment (bigint: no Math.min)
      for (const p of loads) if (p.p_paddr < mem) mem = p.p_paddr;
      return { mem, entry64 };
    },
  });
}

/**
 * e_entry as a physical address: a vmlinux links ENTRY(phys_startup_64), already physical
 * (arch/x86/kernel/vmlinux.lds.S); a virtual one is translated through the PT_LOAD that holds it.
 */
export function physicalEntry(
  entry: bigint,
  loads: ReadonlyArray<{ p_paddr: bigint; p_vaddr: bigint; p_memsz: bigint }>,
): bigint {
  if (loads.some((p) => entry >= p.p_paddr && entry < p.p_paddr + p.p_memsz)) return entry;
  const v = loads.find((p) => entry >= p.p_vaddr && entry < p.p_vaddr + p.p_memsz);
  if (v) return entry - v.p_vaddr + v.p_paddr;
  return fail(`e_entry ${hex(entry)} is in no PT_LOAD segment`);
}
