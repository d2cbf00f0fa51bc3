// The riscv64 "Image" header, per the kernel's Documentation/arch/riscv/boot-image-header.rst.
// Described only: kexec-ts loads x86_64 kernels. With the EFI stub the image also starts with "MZ"
// and res3 holds the PE header offset, so this probe must run before the generic PE one.
import { ascii, defineStruct, u32, u64 } from '../../binary/struct.js';
import type { Probe } from '../probe-types.js';

/** boot-image-header.rst: magic = 0x5643534952, "RISCV\0\0\0" little-endian at 0x30 (deprecated). */
export const RISCV_IMAGE_MAGIC = 'RISCV';
/** boot-image-header.rst: magic2 = 0x56534905, "RSC\x05" little-endian at 0x38 (since header 0.2). */
export const RISCV_IMAGE_MAGIC2 = 'RSC\x05';

export const RiscvImageHeader = defineStruct('riscv_image_header', {
  code0: u32(0x00), // executable code ("MZ" + a jump with the EFI stub)
  code1: u32(0x04),
  text_offset: u64(0x08), // image load offset, little-endian
  image_size: u64(0x10), // effective image size, little-endian
  flags: u64(0x18), // bit 0: kernel endianness, 0 = little
  version: u32(0x20), // header version: major in the high 16 bits, minor in the low 16
  res1: u32(0x24),
  res2: u64(0x28),
  magic: ascii(0x30, 8), // "RISCV\0\0\0"
  magic2: ascii(0x38, 4), // "RSC\x05"
  res3: u32(0x3c), // offset of the PE header when the EFI stub is present
});

export interface RiscvImage {
  textOffset: bigint;
  imageSize: bigint;
  bigEndian: boolean;
  /** Header version "major.minor" (0.2 is current). */
  version: string;
  peOffset: number;
}

export function probeRiscvImage(bytes: Uint8Array): Probe<RiscvImage> {
  if (bytes.byteLength < RiscvImageHeader.size)
    return { ok: false, reason: 'shorter than the 64-byte Image header' };
  const h = RiscvImageHeader.decode(bytes);
  // The kernel's own loaders accept either magic; version 0.1 images have only the first.
  if (h.magic2 !== RISCV_IMAGE_MAGIC2 && h.magic !== RISCV_IMAGE_MAGIC)
    return { ok: false, reason: 'no "RSC\\x05" at 0x38 nor "RISCV" at 0x30' };
  return {
    ok: true,
    header: {
      textOffset: h.text_offset,
      imageSize: h.image_size,
      bigEndian: (h.flags & 1n) !== 0n,
      version: `${h.version >>> 16}.${h.version & 0xffff}`,
      peOffset: h.res3,
    },
  };
}
