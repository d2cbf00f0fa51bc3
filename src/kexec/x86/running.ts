// What the new kernel's boot_params should inherit from the running one (kexec-tools
// kexec/arch/i386/x86-linux-setup.c: get_bootparam, setup_subarch, get_acpi_rsdp):
// the ACPI RSDP address, hardware_subarch and screen_info, from /sys/kernel/boot_params/data (root only),
// with the RSDP also found in /sys/firmware/efi/systab ("ACPI20=0x...").
import { FileError } from '../../errors.js';
import { SetupHeader } from '../../formats/bzimage/setup-header.js';
import type { Sys } from '../../sys/types.js';
import { BOOT_PARAMS_SIZE, BootParams } from './boot-params.js';

export const RUNNING_BOOT_PARAMS = '/sys/kernel/boot_params/data';
export const EFI_SYSTAB = '/sys/firmware/efi/systab';

export interface InheritedBootParams {
  acpiRsdpAddr?: bigint;
  hardwareSubarch?: number;
  /** The running console's 64 bytes of screen_info (kexec-tools copies them when /dev/fb0 says nothing). */
  screenInfo?: Uint8Array;
}

/** The RSDP from an EFI systab text: ACPI20= preferred over ACPI= (the 1.0 table). */
export function rsdpFromSystab(text: string): bigint | undefined {
  const get = (key: string) => new RegExp(`^${key}=(0x[0-9a-f]+)`, 'im').exec(text)?.[1];
  const v = get('ACPI20') ?? get('ACPI');
  return v === undefined ? undefined : BigInt(v);
}

export function readInheritedBootParams(sys: Pick<Sys, 'readFile' | 'readText'>): InheritedBootParams {
  const out: InheritedBootParams = {};
  let data: Uint8Array | undefined;
  try {
    data = sys.readFile(RUNNING_BOOT_PARAMS);
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
  }
  if (data && data.length >= BOOT_PARAMS_SIZE) {
    const bp = BootParams.decode(data);
    if (bp.acpi_rsdp_addr !== 0n) out.acpiRsdpAddr = bp.acpi_rsdp_addr;
    out.hardwareSubarch = SetupHeader.decode(data).hardware_subarch;
    out.screenInfo = bp.screen_info;
  }
  if (out.acpiRsdpAddr === undefined) {
    const systab = sys.readText(EFI_SYSTAB);
    const rsdp = systab === undefined ? undefined : rsdpFromSystab(systab);
    if (rsdp !== undefined) out.acpiRsdpAddr = rsdp;
  }
  return out;
}
