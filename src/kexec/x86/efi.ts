// The EFI hand-off for kexec_load (kexec-tools kexec/arch/i386/x86-linux-setup.c, setup_efi_data and
// setup_efi_info; the kernel's side: arch/x86/platform/efi/quirks.c efi_reuse_config and
// arch/x86/platform/efi/efi.c kexec_enter_virtual_mode): the new kernel cannot call
// SetVirtualAddressMap again, so it needs the running kernel's runtime regions with the virtual addresses
// already chosen, the system table, and the physical fw_vendor/config_table pointers (the firmware turned
// the system table's copies into virtual ones). We pass:
//   boot_params.efi_info   "EL64", the system table, a memory map of the runtime regions only;
//   SETUP_EFI setup_data   struct efi_setup_data (arch/x86/include/asm/efi.h): fw_vendor, __unused
//                          (runtime before Linux 6.x), tables, smbios, reserved[8];
// which the new kernel sees as a kexec boot: it maps each region at its old virt_addr
// (arch/x86/platform/efi/efi.c kexec_enter_virtual_mode) instead of calling SetVirtualAddressMap.

import { defineStruct, u32, u64 } from '../../binary/struct.js';
import { FileError } from '../../errors.js';
import type { Sys } from '../../sys/types.js';
import { type AddressRange, range } from '../memory/ranges.js';
import { BOOT_PARAMS_SIZE, BootParams } from './boot-params.js';
import { RUNNING_BOOT_PARAMS } from './running.js';

export const EFI_DIR = '/sys/firmware/efi';
export const EFI_RUNTIME_MAP_DIR = `${EFI_DIR}/runtime-map`;
/** efi_loader_signature of a 64-bit EFI boot, "EL64" (arch/x86/include/asm/efi.h EFI64_LOADER_SIGNATURE). */
export const EFI64_LOADER_SIGNATURE = 0x34364c45;
/** efi_memory_desc_t as the kernel declares it (include/linux/efi.h): 40 bytes, version 1 (UEFI 2.10 §7.2.3). */
export const EFI_MEMDESC_SIZE = 40;
export const EFI_MEMDESC_VERSION = 1;
/** struct efi_setup_data: 4 u64 + reserved[8]. */
export const EFI_SETUP_DATA_SIZE = 96;
/** EFI pages are 4 KiB whatever the OS page size (UEFI 2.10 §7.2.1 AllocatePages). */
export const EFI_PAGE_SIZE = 4096n;

export const EfiMemoryDescriptor = defineStruct('efi_memory_desc_t', {
  type: u32(0),
  phys_addr: u64(8),
  virt_addr: u64(16),
  num_pages: u64(24),
  attribute: u64(32),
});

export const EfiSetupData = defineStruct('efi_setup_data', {
  fw_vendor: u64(0),
  unused: u64(8),
  tables: u64(16),
  smbios: u64(24),
});

export interface EfiRuntimeRegion {
  type: number;
  physAddr: bigint;
  virtAddr: bigint;
  numPages: bigint;
  attribute: bigint;
}

export interface EfiHandoff {
  /** Physical address of the EFI system table (efi_info.efi_systab{,_hi} of the running kernel). */
  systab: bigint;
  memdescVersion: number;
  fwVendor: bigint;
  runtime: bigint;
  configTable: bigint;
  /** SMBIOS entry point (SMBIOS= in systab); 0 when absent. */
  smbios: bigint;
  regions: EfiRuntimeRegion[];
}

export type EfiProbe = { ok: true; efi: EfiHandoff } | { ok: false; reason: string };

function hexFile(sys: Pick<Sys, 'readText'>, path: string): bigint | undefined {
  const t = sys.readText(path)?.trim();
  return t && /^0x[0-9a-f]+$/i.test(t) ? BigInt(t) : undefined;
}

/** /sys/firmware/efi/runtime-map/N/{type,phys_addr,virt_addr,num_pages,attribute} (drivers/firmware/efi/runtime-map.c). */
export function readRuntimeMap(sys: Pick<Sys, 'listDir' | 'readText'>): EfiRuntimeRegion[] | undefined {
  const names = sys.listDir(EFI_RUNTIME_MAP_DIR)?.filter((n) => /^\d+$/.test(n));
  if (!names) return undefined;
  const out: EfiRuntimeRegion[] = [];
  for (const n of names.sort((a, b) => Number(a) - Number(b))) {
    const get = (f: string) => hexFile(sys, `${EFI_RUNTIME_MAP_DIR}/${n}/${f}`);
    const [type, physAddr, virtAddr, numPages, attribute] = [
      'type',
      'phys_addr',
      'virt_addr',
      'num_pages',
      'attribute',
    ].map(get);
    if ([type, physAddr, virtAddr, numPages, attribute].some((v) => v === undefined)) return undefined;
    out.push({
      type: Number(type),
      physAddr: physAddr!,
      virtAddr: virtAddr!,
      numPages: numPages!,
      attribute: attribute!,
    });
  }
  return out;
}

/** Everything the hand-off needs, or why the new kernel will boot without EFI runtime services. */
export function readEfiHandoff(sys: Pick<Sys, 'listDir' | 'readText' | 'readFile'>): EfiProbe {
  if (sys.listDir(EFI_DIR) === undefined) return { ok: false, reason: `no ${EFI_DIR} (not an EFI boot)` };
  let bp: Uint8Array;
  try {
    bp = sys.readFile(RUNNING_BOOT_PARAMS);
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
    return { ok: false, reason: `${RUNNING_BOOT_PARAMS} unreadable (the system table address is there)` };
  }
  if (bp.length < BOOT_PARAMS_SIZE) return { ok: false, reason: `${RUNNING_BOOT_PARAMS} is short` };
  const ei = BootParams.decode(bp);
  if (ei.efi_loader_signature !== EFI64_LOADER_SIGNATURE) {
    return { ok: false, reason: 'the running kernel was not booted by 64-bit EFI (efi_loader_signature)' };
  }
  if (ei.efi_memdesc_version !== EFI_MEMDESC_VERSION) {
    return { ok: false, reason: `efi_memdesc_version ${ei.efi_memdesc_version}, not 1` };
  }
  const systab = (BigInt(ei.efi_systab_hi) << 32n) | BigInt(ei.efi_systab);
  const fwVendor = hexFile(sys, `${EFI_DIR}/fw_vendor`);
  const runtime = hexFile(sys, `${EFI_DIR}/runtime`);
  const configTable = hexFile(sys, `${EFI_DIR}/config_table`);
  if (fwVendor === undefined || runtime === undefined || configTable === undefined) {
    return { ok: false, reason: `${EFI_DIR}/{fw_vendor,runtime,config_table} unreadable` };
  }
  const regions = readRuntimeMap(sys);
  if (!regions || regions.length === 0) {
    return {
      ok: false,
      reason: `${EFI_RUNTIME_MAP_DIR} missing or empty (CONFIG_EFI_RUNTIME_MAP, or runtime services off)`,
    };
  }
  const smbios = /^SMBIOS=(0x[0-9a-f]+)/im.exec(sys.readText(`${EFI_DIR}/systab`) ?? '')?.[1];
  return {
    ok: true,
    efi: {
      systab,
      memdescVersion: ei.efi_memdesc_version,
      fwVendor,
      runtime,
      configTable,
      smbios: smbios ? BigInt(smbios) : 0n,
      regions,
    },
  };
}

/** The runtime regions as a memory map of 40-byte descriptors. */
export function encodeEfiMemmap(regions: readonly EfiRuntimeRegion[]): Uint8Array {
  const out = new Uint8Array(regions.length * EFI_MEMDESC_SIZE);
  regions.forEach((r, i) => {
    EfiMemoryDescriptor.encode(
      {
        type: r.type,
        phys_addr: r.physAddr,
        virt_addr: r.virtAddr,
        num_pages: r.numPages,
        attribute: r.attribute,
      },
      out,
      i * EFI_MEMDESC_SIZE,
    );
  });
  return out;
}

export function encodeEfiSetupData(efi: EfiHandoff): Uint8Array {
  return EfiSetupData.encode(
    { fw_vendor: efi.fwVendor, unused: efi.runtime, tables: efi.configTable, smbios: efi.smbios },
    new Uint8Array(EFI_SETUP_DATA_SIZE),
  );
}

/** Physical ranges of the runtime regions: no segment may overwrite them. */
export function runtimeRanges(regions: readonly EfiRuntimeRegion[]): AddressRange[] {
  return regions.map((r) => range(r.physAddr, r.physAddr + r.numPages * EFI_PAGE_SIZE));
}

/** boot_params.efi_info fields for a memory map at `memmap`. */
export function efiInfoFields(efi: EfiHandoff, memmap: bigint) {
  return {
    efi_loader_signature: EFI64_LOADER_SIGNATURE,
    efi_systab: Number(efi.systab & 0xffffffffn),
    efi_systab_hi: Number(efi.systab >> 32n),
    efi_memdesc_size: EFI_MEMDESC_SIZE,
    efi_memdesc_version: efi.memdescVersion,
    efi_memmap: Number(memmap & 0xffffffffn),
    efi_memmap_hi: Number(memmap >> 32n),
    efi_memmap_size: efi.regions.length * EFI_MEMDESC_SIZE,
  };
}
