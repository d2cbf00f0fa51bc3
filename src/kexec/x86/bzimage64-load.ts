// planBzImage64Load: the kexec_load segments for an x86_64 bzImage entered at its 64-bit entry through
// our purgatory. Placement follows kexec-tools' kexec/arch/x86_64/kexec-bzImage64.c (do_bzImage64_load,
// with locate_hole and add_buffer from kexec/kexec.c and the boot_params of
// kexec/arch/i386/x86-linux-setup.c); the
// layout is described in docs/kexec-load.md. Pure: no syscalls, randomness injectable.
// planLinux64Load is the part shared with the ELF vmlinux loader (elf-x86_64-load.ts): everything but
// the kernel's own segments and the setup header.
import { randomBytes } from 'node:crypto';
import { LayoutError } from '../../errors.js';
import { LOADED_HIGH, SetupHeader, XLF_EFI_KEXEC } from '../../formats/bzimage/setup-header.js';
import {
  COM1_PORT,
  type PurgatoryRegion,
  patchPurgatory,
  purgatoryX86_64,
} from '../../purgatory/x86_64-header.js';
import { KEXEC_ARCH_X86_64, KEXEC_ON_CRASH, type KexecSegment } from '../../sys/types.js';
import { SegmentPlanner } from '../memory/hole.js';
import type { MemoryMap } from '../memory/memmap.js';
import { type AddressRange, alignUp, GiB, hex, type MemoryRange, MiB, PAGE_SIZE } from '../memory/ranges.js';
import { validateSegments } from '../memory/segments.js';
import {
  BOOT_PARAMS_SIZE,
  BootParams,
  HDR_OFFSET,
  LOADER_TYPE_UNDEFINED,
  SETUP_EFI,
  SETUP_RNG_SEED,
  vgaTextScreenInfo,
} from './boot-params.js';
import { type BzImage64, checkBzImage64, ENTRY_64_OFFSET } from './bzimage64-check.js';
import { segmentRegions, segmentsDigest } from './digest.js';
import { type EddParams, eddFields } from './edd.js';
import { type EfiHandoff, efiInfoFields, encodeEfiMemmap, encodeEfiSetupData, runtimeRanges } from './efi.js';
import { e820ExtItem, encodeE820, encodeSetupData, type SetupDataItem, setupDataSize } from './setup-data.js';

export interface BzImage64LoadOptions {
  /** The bzImage, whole-file decompression already undone. */
  image: Uint8Array;
  initrd?: Uint8Array | undefined;
  cmdline: string;
  memmap: MemoryMap;
  /** --mem-min / --mem-max, inclusive as kexec-tools takes them. */
  memMin?: bigint | undefined;
  memMax?: bigint | undefined;
  /** kdump (-p): placement in `memmap`, which then holds the crash region only (src/kexec/crash/plan.ts). */
  kdump?: KdumpExtras | undefined;
  /** EFI runtime hand-off (efi_info, SETUP_EFI, runtime map); without it the kernel boots without EFI runtime services. */
  efi?: EfiHandoff | undefined;
  /** -i / --no-checks: no SHA-256 at load time, and the purgatory skips its check. */
  noChecks?: boolean;
  /** boot_params.acpi_rsdp_addr (needed without EFI when the RSDP is not in the BIOS area, e.g. OVMF). */
  acpiRsdpAddr?: bigint | undefined;
  /** 64 bytes of struct screen_info; default an 80x25 VGA text console. */
  screenInfo?: Uint8Array | undefined;
  hardwareSubarch?: number | undefined;
  /** SETUP_RNG_SEED bytes; default 32 from node:crypto; false for none. */
  rngSeed?: Uint8Array | false;
  /** 16550 port for the purgatory's mismatch line; default COM1 (0x3f8), 0 for silence. */
  serialPort?: number;
  /** The running kernel uses 5-level paging: the new one must have XLF_5LEVEL. */
  fiveLevelPaging?: boolean;
  /** boot_params EDD fields (edd.ts); none by default. */
  edd?: EddParams | undefined;
}
/** The same options for any 64-bit Linux image (`image` is the bzImage or the ELF vmlinux). */
export type Linux64LoadOptions = BzImage64LoadOptions;

type AddFn = (buf: Uint8Array, memsz: bigint, req: Parameters<SegmentPlanner['add']>[2]) => bigint;

/** What planLinux64Load needs from a 64-bit Linux image: a bzImage64 or an ELF vmlinux. */
export interface Linux64Kernel {
  /** Zero-page bytes from 0x1f1 on (the setup header): copied from a bzImage, made up for a vmlinux. */
  setupHeader: Uint8Array;
  /** The image's loadflags; only LOADED_HIGH is passed on. */
  loadflags: number;
  /** Segments, initrd and boot_params may go above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G). */
  above4G: boolean;
  /** Highest address the initrd may occupy (inclusive) when it must stay below 4 GiB. */
  initrdAddrMax: bigint;
  /** The kernel accepts the kexec EFI hand-off (XLF_EFI_KEXEC). */
  efiKexec: boolean;
  /** Place the kernel's own segments (role 'kernel'); returns the lowest one and the 64-bit entry. */
  place(planner: SegmentPlanner, high: bigint | undefined, add: AddFn): { mem: bigint; entry64: bigint };
}

export type SegmentRole = 'kernel' | 'initrd' | 'boot_params' | 'setup_data' | 'purgatory' | 'elfcorehdr';

/** What a crash (KEXEC_ON_CRASH) load changes; docs/kexec-load.md "kdump". */
export interface KdumpExtras {
  /** The capture kernel's e820, instead of memmap.ranges. */
  e820: readonly MemoryRange[];
  /** Segments at fixed addresses, placed first (the ELF core headers). */
  fixed: ReadonlyArray<{ role: SegmentRole; buf: Uint8Array; mem: bigint }>;
  /** The kernel accepts crash segments only inside this range (crashk_res). */
  region: AddressRange;
  /** Bytes of RAM of the running kernel (the half-of-RAM check), memmap holding only the crash region. */
  totalRam: bigint;
}

export interface KexecPlan {
  entry: bigint;
  /** kexec_load flags: KEXEC_ARCH_X86_64, plus KEXEC_ON_CRASH for kdump. */
  flags: number;
  /** Sorted by address; what kexec_load takes. */
  segments: KexecSegment[];
  /** The same segments with their roles, for -d output and tests. */
  layout: Array<{ role: SegmentRole; mem: bigint; memsz: bigint; bufsz: number }>;
  bootParams: { mem: bigint; cmdLinePtr: bigint; setupData: bigint[] };
  kernel: { mem: bigint; entry64: bigint };
  /** The EFI hand-off, when the running system and the image allow one. */
  efi?: { memmap: bigint; regions: number; systab: bigint } | undefined;
  /** Why there is no EFI hand-off, when the caller knows (for -d). */
  efiNote?: string | undefined;
  /** What else the caller found (screen_info source, EDD), for -d. */
  notes?: string[] | undefined;
  purgatory: {
    mem: bigint;
    entryRip: bigint;
    entryRsi: bigint;
    skipChecks: boolean;
    regions: PurgatoryRegion[];
    digest: Uint8Array;
  };
}

const BELOW_4G = 4n * GiB;
const RNG_SEED_BYTES = 32;

/** Plan the segments; throws FormatError (image), UsageError (cmdline) or LayoutError (memory). */
export function planBzImage64Load(opts: BzImage64LoadOptions): KexecPlan {
  const bz = checkBzImage64(opts.image, { cmdline: opts.cmdline, fiveLevelPaging: opts.fiveLevelPaging });
  // Copy only the setup header: 0x1f1 up to 0x202 + the byte at 0x201 (boot.rst, "the end of setup
  // header"), never past the zero page's hdr area; the sentinel (0x1ef) and all else stay zero.
  const hdrEnd = Math.min(0x202 + (opts.image[0x201] ?? 0), 0x290, opts.image.length);
  return planLinux64Load(opts, {
    setupHeader: opts.image.subarray(HDR_OFFSET, hdrEnd),
    loadflags: bz.hdr.loadflags,
    above4G: bz.above4G,
    initrdAddrMax: BigInt(bz.hdr.initrd_addr_max),
    // boot.rst xloadflags: XLF_EFI_KEXEC says the kernel accepts the kexec EFI hand-off.
    efiKexec: (bz.hdr.xloadflags & XLF_EFI_KEXEC) !== 0,
    place: (planner, high, add) => {
      const mem = placeKernel(planner, bz, high, add);
      return { mem, entry64: mem + ENTRY_64_OFFSET };
    },
  });
}

/** The shared planner: kernel (by `k`), initrd, boot_params + command line, purgatory, setup_data. */
export function planLinux64Load(opts: Linux64LoadOptions, k: Linux64Kernel): KexecPlan {
  const efi = opts.efi && k.efiKexec ? opts.efi : undefined;
  const planner = new SegmentPlanner(opts.memmap.ranges, {
    memMin: opts.memMin,
    memMax: opts.memMax,
    // EFI_MEMORY_RUNTIME regions may be RAM in the e820 (e.g. boot services data the old kernel kept).
    exclude: [...opts.memmap.crash, ...(efi ? runtimeRanges(efi.regions) : [])],
  });
  const roles = new Map<Uint8Array, SegmentRole>();
  const add = (
    role: SegmentRole,
    buf: Uint8Array,
    memsz: bigint,
    req: Parameters<SegmentPlanner['add']>[2],
  ) => {
    roles.set(buf, role);
    return planner.add(buf, memsz, req);
  };
  const high = k.above4G ? undefined : BELOW_4G;
  for (const f of opts.kdump?.fixed ?? []) {
    roles.set(f.buf, f.role);
    planner.addAt(f.buf, BigInt(f.buf.length), f.mem);
  }

  const kernel = k.place(planner, high, (b, m, r) => add('kernel', b, m, r));
  let initrdMem = 0n;
  if (opts.initrd) {
    // initrd_addr_max is the highest address the initrd may occupy (inclusive); above 4 GiB when allowed.
    const max = k.above4G ? undefined : k.initrdAddrMax + 1n;
    initrdMem = add('initrd', opts.initrd, BigInt(opts.initrd.length), { min: MiB, max, topDown: true });
  }
  const cmdline = Buffer.from(`${opts.cmdline}\0`, 'utf8');
  const zeroPage = new Uint8Array(BOOT_PARAMS_SIZE + cmdline.length);
  const bootParamsMem = add('boot_params', zeroPage, BigInt(zeroPage.length), { max: high, topDown: true });
  const purg = purgatoryX86_64();
  const purgatoryMem = add('purgatory', purg.bytes, BigInt(purg.memsz), { max: BELOW_4G, topDown: true });

  const e820 = encodeE820(opts.kdump?.e820 ?? opts.memmap.ranges);
  const items: SetupDataItem[] = [];
  if (e820.ext) items.push(e820ExtItem(e820.ext));
  const seed = opts.rngSeed === undefined ? new Uint8Array(randomBytes(RNG_SEED_BYTES)) : opts.rngSeed;
  if (seed) items.push({ type: SETUP_RNG_SEED, data: seed });
  if (efi) items.push({ type: SETUP_EFI, data: encodeEfiSetupData(efi) });
  let setupData: bigint[] = [];
  let efiMemmap = 0n;
  if (items.length > 0) {
    // The EFI memory map rides in the same segment, after the chain (8-byte aligned).
    const chainSize = setupDataSize(items);
    const memmap = efi ? encodeEfiMemmap(efi.regions) : new Uint8Array(0);
    const buf = new Uint8Array(chainSize + memmap.length);
    const mem = add('setup_data', buf, BigInt(buf.length), { min: MiB, max: high });
    const chain = encodeSetupData(items, mem);
    buf.set(chain.bytes);
    buf.set(memmap, chainSize);
    setupData = chain.addresses;
    if (efi) efiMemmap = mem + BigInt(chainSize);
  }

  fillBootParams(zeroPage, opts, k, {
    cmdLinePtr: bootParamsMem + BigInt(BOOT_PARAMS_SIZE),
    ramdisk: opts.initrd ? { mem: initrdMem, size: BigInt(opts.initrd.length) } : undefined,
    setupData: setupData[0] ?? 0n,
    e820,
    efi: efi ? efiInfoFields(efi, efiMemmap) : undefined,
  });
  zeroPage.set(cmdline, BOOT_PARAMS_SIZE);

  const segments = [...planner.segments].sort((a, b) => (a.mem < b.mem ? -1 : 1));
  const totalRam =
    opts.kdump?.totalRam ??
    opts.memmap.ranges.reduce((n, r) => (r.type === 'ram' ? n + r.end - r.start : n), 0n);
  validateSegments(segments, { totalRam, within: opts.kdump ? [opts.kdump.region] : undefined });
  const hashed = segments.filter((s) => s.buf !== purg.bytes);
  const regions = segmentRegions(hashed);
  const skipChecks = opts.noChecks ?? false;
  // -i: like kexec-tools, no digest at all (the purgatory will not check; hashing 500 MB costs seconds).
  const digest = skipChecks ? new Uint8Array(32) : segmentsDigest(hashed);
  const entryRip = kernel.entry64;
  patchPurgatory(purg.bytes, {
    entryRip,
    entryRsi: bootParamsMem,
    skipChecks,
    serialPort: opts.serialPort ?? COM1_PORT,
    regions,
    digest,
  });
  return {
    entry: purgatoryMem,
    flags: KEXEC_ARCH_X86_64 | (opts.kdump ? KEXEC_ON_CRASH : 0),
    segments,
    layout: segments.map((s) => ({
      role: roles.get(s.buf)!,
      mem: s.mem,
      memsz: s.memsz,
      bufsz: s.buf.length,
    })),
    bootParams: { mem: bootParamsMem, cmdLinePtr: bootParamsMem + BigInt(BOOT_PARAMS_SIZE), setupData },
    kernel: { mem: kernel.mem, entry64: entryRip },
    efi: efi ? { memmap: efiMemmap, regions: efi.regions.length, systab: efi.systab } : undefined,
    purgatory: { mem: purgatoryMem, entryRip, entryRsi: bootParamsMem, skipChecks, regions, digest },
  };
}

/**
 * The protected-mode kernel with init_size bytes reserved (it decompresses in place). A relocatable
 * kernel goes at the lowest kernel_alignment-aligned address from pref_address up (pref_address itself
 * when free: no relocation needed), else from 1 MiB; a non-relocatable one exactly at pref_address.
 */
function placeKernel(planner: SegmentPlanner, bz: BzImage64, high: bigint | undefined, add: AddFn): bigint {
  const memsz = alignUp(BigInt(Math.max(bz.hdr.init_size, bz.kernel.length)), PAGE_SIZE);
  const pref = bz.hdr.pref_address > 0n ? bz.hdr.pref_address : MiB;
  if (!bz.relocatable) return add(bz.kernel, memsz, { min: pref, max: pref + memsz });
  const align = BigInt(bz.hdr.kernel_alignment);
  try {
    planner.locate({ size: memsz, align, min: pref, max: high });
  } catch (err) {
    if (!(err instanceof LayoutError)) throw err;
    return add(bz.kernel, memsz, { align, min: MiB, max: high });
  }
  return add(bz.kernel, memsz, { align, min: pref, max: high });
}

interface LoaderFields {
  cmdLinePtr: bigint;
  ramdisk: { mem: bigint; size: bigint } | undefined;
  setupData: bigint;
  e820: ReturnType<typeof encodeE820>;
  efi: ReturnType<typeof efiInfoFields> | undefined;
}

const lo32 = (n: bigint): number => Number(n & 0xffffffffn);
const hi32 = (n: bigint): number => Number(n >> 32n);

/** boot.rst "Details of Header Fields" (loader-written fields) and zero-page.rst. */
function fillBootParams(zp: Uint8Array, opts: Linux64LoadOptions, k: Linux64Kernel, f: LoaderFields): void {
  zp.set(k.setupHeader, HDR_OFFSET);
  const ramdisk = f.ramdisk ?? { mem: 0n, size: 0n };
  SetupHeader.encode(
    {
      type_of_loader: LOADER_TYPE_UNDEFINED,
      loadflags: k.loadflags & LOADED_HIGH, // no QUIET_FLAG, no CAN_USE_HEAP (no real-mode code runs)
      heap_end_ptr: 0,
      cmd_line_ptr: lo32(f.cmdLinePtr),
      ramdisk_image: lo32(ramdisk.mem),
      ramdisk_size: lo32(ramdisk.size),
      setup_data: f.setupData,
      hardware_subarch: opts.hardwareSubarch ?? 0, // X86_SUBARCH_PC
      hardware_subarch_data: 0n,
    },
    zp,
  );
  const ram1M = (opts.kdump?.e820 ?? opts.memmap.ranges).find(
    (r: MemoryRange) => r.type === 'ram' && r.start <= MiB && r.end > MiB,
  );
  const altMemK = ram1M ? Number((ram1M.end - MiB) / 1024n) : 0;
  const screen = (opts.screenInfo ?? vgaTextScreenInfo()).slice(0, 0x40);
  new DataView(screen.buffer, screen.byteOffset).setUint16(2, Math.min(altMemK, 0xfc00), true); // ext_mem_k
  BootParams.encode(
    {
      screen_info: screen,
      acpi_rsdp_addr: opts.acpiRsdpAddr ?? 0n,
      ext_ramdisk_image: hi32(ramdisk.mem),
      ext_ramdisk_size: hi32(ramdisk.size),
      ext_cmd_line_ptr: hi32(f.cmdLinePtr),
      alt_mem_k: altMemK,
      e820_entries: f.e820.entries,
      e820_table: f.e820.table,
      ...(opts.edd ? eddFields(opts.edd) : {}),
      ...f.efi,
    },
    zp,
  );
}

/** `kexec -d` style lines: role, range, sizes. */
export function describePlan(plan: KexecPlan): string[] {
  return [
    `entry ${hex(plan.entry)} (purgatory), kernel 64-bit entry ${hex(plan.kernel.entry64)}, boot_params ${hex(plan.bootParams.mem)}`,
    ...plan.layout.map(
      (l) =>
        `${l.role.padEnd(11)} ${hex(l.mem)}-${hex(l.mem + l.memsz - 1n)} memsz ${hex(l.memsz)} bufsz ${hex(l.bufsz)}`,
    ),
    ...(plan.notes ?? []),
    plan.efi
      ? `efi: systab ${hex(plan.efi.systab)}, ${plan.efi.regions} runtime regions, memmap ${hex(plan.efi.memmap)}`
      : `efi: none (${plan.efiNote ?? 'not asked for'}): the new kernel boots without EFI runtime services`,
  ];
}
