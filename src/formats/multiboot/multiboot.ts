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

/** Multiboot §3.1.2 "The magic fields": flag bits and what the kernel asks of the loader. */
export const MULTIBOOT_FLAG_NAMES: Readonly<Record<number, string>> = {
  0: 'PAGE_ALIGN (modules on 4 KiB boundaries)',
  1: 'MEMORY_INFO (mem_* fields wanted)',
  2: 'VIDEO_MODE (video mode table wanted)',
  16: 'AOUT_KLUDGE (address fields at +12..+28 are valid)',
};
/** Multiboot2 §3.1.3-3.1.13: header tag types. */
export const MB2_TAG_NAMES: Readonly<Record<number, string>> = {
  1: 'information request',
  2: 'address',
  3: 'entry address',
  4: 'console flags',
  5: 'framebuffer',
  6: 'module alignment',
  7: 'EFI boot services',
  8: 'EFI i386 entry address',
  9: 'EFI amd64 entry address',
  10: 'relocatable header',
};
/** Multiboot2 §3.1.2: tags follow the 16-byte header, each 8-byte aligned; type 0 size 8 ends them. */
const MB2_TAG_ALIGN = 8;
/** A cap on tags walked: each is at least 8 bytes, and header_length bounds them too. */
export const MAX_MB2_TAGS = 4096;

export interface MultibootTag {
  type: number;
  name: string;
  /** Bit 0 of the tag's flags: the loader may ignore the tag. */
  optional: boolean;
  size: number;
}

export interface MultibootInfo {
  offset: number;
  flags?: number;
  /** Names of the set flag bits (multiboot v1). */
  flagNames?: string[];
  architecture?: string;
  headerLength?: number;
  /** Multiboot2 header tags, in order (the end tag not included). */
  tags?: MultibootTag[];
}

function flagNames(flags: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (flags & (1 << bit)) out.push(MULTIBOOT_FLAG_NAMES[bit] ?? `bit ${bit}`);
  }
  return out;
}

/** Walk the tags inside [at+16, at+header_length); a tag that runs past the header ends the walk. */
function readTags(bytes: Uint8Array, at: number, headerLength: number): MultibootTag[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = Math.min(at + headerLength, bytes.byteLength);
  const tags: MultibootTag[] = [];
  let p = at + Multiboot2Header.size;
  while (p + 8 <= end && tags.length < MAX_MB2_TAGS) {
    const type = view.getUint16(p, true);
    const size = view.getUint32(p + 4, true);
    if (type === 0 || size < 8 || p + size > end) break;
    tags.push({
      type,
      name: MB2_TAG_NAMES[type] ?? `type ${type}`,
      optional: (view.getUint16(p + 2, true) & 1) !== 0,
      size,
    });
    p += Math.ceil(size / MB2_TAG_ALIGN) * MB2_TAG_ALIGN;
  }
  return tags;
}

export function probeMultiboot(bytes: Uint8Array): Probe<MultibootInfo> {
  // The whole header must lie inside the window (and the file), so the last start is size-12.
  const end = Math.min(bytes.byteLength, MULTIBOOT_SEARCH) - MultibootHeader.size;
  for (let at = 0; at <= end; at += MULTIBOOT_ALIGN) {
    const h = MultibootHeader.decode(bytes, at);
    // §3.1.2: the checksum makes the u32 sum of magic, flags and checksum zero.
    if (h.magic === MULTIBOOT_MAGIC && (h.magic + h.flags + h.checksum) >>> 0 === 0) {
      return { ok: true, header: { offset: at, flags: h.flags, flagNames: flagNames(h.flags) } };
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
        header: {
          offset: at,
          architecture: MB2_ARCH[h.architecture] ?? `arch ${h.architecture}`,
          headerLength: h.header_length,
          tags: readTags(bytes, at, h.header_length),
        },
      };
    }
  }
  return { ok: false, reason: 'no multiboot2 header (0xe85250d6 with a valid checksum) in the first 32 KiB' };
}
