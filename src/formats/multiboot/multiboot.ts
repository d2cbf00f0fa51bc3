// Multiboot headers, described only (kexec-tools' multiboot-x86 / multiboot2-x86 loaders).
// Multiboot 0.6.96 §3.1.1-3.1.2: magic, flags, checksum, 4-byte aligned in the first 8192 bytes.
// Multiboot2 2.0 §3.1.1-3.1.2: magic, architecture, header_length, checksum, 8-byte aligned in the
// first 32768 bytes. In both, the u32 sum of the listed fields is zero.
import { defineStruct, u32 } from '../../binary/struct.js';
import type { Probe } from '../probe-types.js';

/** Multiboot §3.1.1: the header magic, searched 4-byte aligned in the first 8192 bytes. */
export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_SEARCH = 8192;
export const MULTIBOOT_ALIGN = 4;
/** Multiboot2 §3.1.1: the header magic, searched 8-byte aligned in the first 32768 bytes. */
export const MULTIBOOT2_MAGIC = 0xe85250d6;
export const MULTIBOOT2_SEARCH = 32768;
export const MULTIBOOT2_ALIGN = 8;
/** Multiboot2 architecture field: 0 = i386 protected mode, 4 = MIPS32. */
const MB2_ARCH: Readonly<Record<number, string>> = { 0: 'i386', 4: 'mips32' };

export const MultibootHeader = defineStruct('multiboot_header', {
  magic: u32(0),
  flags: u32(4),
  checksum: u32(8),
});
export const Multiboot2Header = defineStruct('multiboot_header', {
  magic: u32(0),
  architecture: u32(4),
  header_length: u32(8),
  checksum: u32(12),
});

export interface MultibootInfo {
  offset: number;
  flags?: number;
  architecture?: string;
}

export function probeMultiboot(bytes: Uint8Array): Probe<MultibootInfo> {
  // The whole header must lie inside the window (and the file), so the last start is size-12.
  const end = Math.min(bytes.byteLength, MULTIBOOT_SEARCH) - MultibootHeader.size;
  for (let at = 0; at <= end; at += MULTIBOOT_ALIGN) {
    const h = MultibootHeader.decode(bytes, at);
    // §3.1.2: the checksum makes the u32 sum of magic, flags and checksum zero.
    if (h.magic === MULTIBOOT_MAGIC && (h.magic + h.flags + h.checksum) >>> 0 === 0) {
      return { ok: true, header: { offset: at, flags: h.flags } };
    }
  }
  return { ok: false, reason: 'no multiboot header (0x1badb002 with a valid checksum) in the first 8 KiB' };
}

export function probeMultiboot2(bytes: Uint8Array): Probe<MultibootInfo> {
  const end = Math.min(bytes.byteLength, MULTIBOOT2_SEARCH) - Multiboot2Header.size;
  for (let at = 0; at <= end; at += MULTIBOOT2_ALIGN) {
    const h = Multiboot2Header.decode(bytes, at);
    if (
      h.magic === MULTIBOOT2_MAGIC &&
      (h.magic + h.architecture + h.header_length + h.checksum) >>> 0 === 0
    ) {
      return {
        ok: true,
        header: { offset: at, architecture: MB2_ARCH[h.architecture] ?? `arch ${h.architecture}` },
      };
    }
  }
  return { ok: false, reason: 'no multiboot2 header (0xe85250d6 with a valid checksum) in the first 32 KiB' };
}
