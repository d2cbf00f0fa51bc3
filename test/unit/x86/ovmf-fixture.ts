// A QEMU q35 guest with 2 GiB under OVMF, as the lab's Debian 6.1 kernel showed it (EFI stub boot).
import { BootParams } from '../../../src/kexec/x86/boot-params.js';
import { EFI64_LOADER_SIGNATURE } from '../../../src/kexec/x86/efi.js';
import { FakeSys } from '../../../src/sys/fake.js';

/** /sys/firmware/memmap: [start, inclusive end, type]. */
export const OVMF_2G: ReadonlyArray<readonly [number, number, string]> = [
  [0x0, 0x9ffff, 'System RAM'],
  [0x100000, 0x7fffff, 'System RAM'],
  [0x800000, 0x807fff, 'ACPI Non-volatile Storage'],
  [0x808000, 0x80afff, 'System RAM'],
  [0x80b000, 0x80bfff, 'ACPI Non-volatile Storage'],
  [0x80c000, 0x80ffff, 'System RAM'],
  [0x810000, 0x8fffff, 'ACPI Non-volatile Storage'],
  [0x900000, 0x7eea0fff, 'System RAM'],
  [0x7eea1000, 0x7ef61fff, 'Reserved'],
  [0x7ef62000, 0x7f8ecfff, 'System RAM'],
  [0x7f8ed000, 0x7fb6cfff, 'Reserved'],
  [0x7fb6d000, 0x7fb7efff, 'ACPI Tables'],
  [0x7fb7f000, 0x7fbfefff, 'ACPI Non-volatile Storage'],
  [0x7fbff000, 0x7ff4ffff, 'System RAM'],
  [0x7ff50000, 0x7ff6ffff, 'Reserved'],
  [0x7ff70000, 0x7fffffff, 'ACPI Non-volatile Storage'],
  [0xb0000000, 0xbfffffff, 'Reserved'],
];

/** /sys/firmware/efi/runtime-map/N: type, phys_addr, virt_addr, num_pages, attribute. */
export const OVMF_RUNTIME_MAP: ReadonlyArray<readonly [number, bigint, bigint, bigint, bigint]> = [
  [6, 0x7ff50000n, 0xfffffffefff50000n, 0x20n, 0x800000000000000fn],
  [5, 0x7f9ed000n, 0xfffffffeff9ed000n, 0x100n, 0x800000000000000fn],
  [6, 0x7f8ed000n, 0xfffffffeff8ed000n, 0x100n, 0x800000000000000fn],
  [6, 0x7eea1000n, 0xfffffffefeea1000n, 0xc1n, 0x800000000000000fn],
  // Boot services data the kernel kept (EFI memory attributes table): RAM in the e820.
  [4, 0x7dc73000n, 0xfffffffefdc73000n, 0x1n, 0x800000000000000fn],
];

export const OVMF_SYSTAB = 0x7f9ec018n;

export function ovmfSys(opts: { signature?: number; runtimeMap?: boolean } = {}): FakeSys {
  const files: Record<string, Uint8Array | string> = {
    '/sys/firmware/efi/fw_vendor': '0x7f91c818\n',
    '/sys/firmware/efi/runtime': '0x7f9ecb98\n',
    '/sys/firmware/efi/config_table': '0x7f9ecc98\n',
    '/sys/firmware/efi/systab': 'ACPI20=0x7fb7e014\nACPI=0x7fb7e000\nSMBIOS=0x7f918000\n',
    '/sys/firmware/efi/fw_platform_size': '64\n',
    '/sys/kernel/boot_params/data': BootParams.encode({
      efi_loader_signature: opts.signature ?? EFI64_LOADER_SIGNATURE,
      efi_systab: Number(OVMF_SYSTAB),
      efi_memdesc_size: 0x30,
      efi_memdesc_version: 1,
      efi_memmap: 0x7fb73040,
      efi_memmap_size: 0x1b00,
      acpi_rsdp_addr: 0x7fb7e014n,
    }),
  };
  OVMF_2G.forEach(([start, end, type], i) => {
    files[`/sys/firmware/memmap/${i}/start`] = `0x${start.toString(16)}\n`;
    files[`/sys/firmware/memmap/${i}/end`] = `0x${end.toString(16)}\n`;
    files[`/sys/firmware/memmap/${i}/type`] = `${type}\n`;
  });
  if (opts.runtimeMap ?? true) {
    OVMF_RUNTIME_MAP.forEach((r, i) => {
      ['type', 'phys_addr', 'virt_addr', 'num_pages', 'attribute'].forEach((f, j) => {
        files[`/sys/firmware/efi/runtime-map/${i}/${f}`] = `0x${r[j]!.toString(16)}\n`;
      });
    });
  }
  return new FakeSys({ files, dirs: ['/sys/firmware/efi'] });
}
