// The arm64 "Image" header, per the kernel's Documentation/arch/arm64/booting.rst, section
// "4. Call the kernel image" (the 64-byte header). Described only: kexec-ts loads x86_64 kernels.
import { ascii, defineStruct, u32, u64 } from '../../binary/struct.js';
import type { Probe } from '../probe-types.js';

/** booting.rst: magic = 0x644d5241, "ARM\x64" little-endian, at offset 0x38. */
export const ARM64_IMAGE_MAGIC = 'ARM\x64';

export const Arm64ImageHeader = defineStruct('arm64_image_header', {
  code0: u32(0x00), // executable code (an "MZ" branch when the EFI stub is built in)
  code1: u32(0x04),
  text_offset: u64(0x08), // image load offset, little-endian
  image_size: u64(0x10), // effective image size; 0 before Linux 3.17
  flags: u64(0x18),
  res2: u64(0x20),
  res3: u64(0x28),
  res4: u64(0x30),
  magic: ascii(0x38, 4),
  res5: u32(0x3c), // offset of the PE header when the EFI stub is present
});

/** booting.rst flags: bit 0 kernel endianness (1 = big-endian). */
export const ARM64_FLAG_BE = 1n << 0n;
/** Bits 1-2: page size, 0 unspecified, 1 = 4K, 2 = 16K, 3 = 64K. */
const PAGE_SIZES = ['unspecified', '4K', '16K', '64K'] as const;
/** Bit 3: physical placement, 1 = anywhere in physical memory. */
export const ARM64_FLAG_PHYS_ANYWHERE = 1n << 3n;

export interface Arm64Image {
  textOffset: bigint;
  imageSize: bigint;
  bigEndian: boolean;
  pageSize: (typeof PAGE_SIZES)[number];
  placeAnywhere: boolean;
}

export function probeArm64Image(bytes: Uint8Array): Probe<Arm64Image> {
  if (bytes.byteLength < Arm64ImageHeader.size)
    return { ok: false, reason: 'shorter than the 64-byte Image header' };
  const h = Arm64ImageHeader.decode(bytes);
  if (h.magic !== ARM64_IMAGE_MAGIC) return { ok: false, reason: 'no "ARM\\x64" at 0x38' };
  return {
    ok: true,
    header: {
      textOffset: h.text_offset,
      imageSize: h.image_size,
      bigEndian: (h.flags & ARM64_FLAG_BE) !== 0n,
      pageSize: PAGE_SIZES[Number((h.flags >> 1n) & 3n)]!,
      placeAnywhere: (h.flags & ARM64_FLAG_PHYS_ANYWHERE) !== 0n,
    },
  };
}
