// EFI zboot images (CONFIG_EFI_ZBOOT: arm64, riscv64, loongarch64): a small EFI decompressor in a PE
// whose DOS header carries a description of the compressed kernel, so a non-EFI loader can unwrap
// it. Layout per the kernel's drivers/firmware/efi/libstub/zboot-header.S (the DOS header fields)
// and Makefile.zboot (ZBOOT_SIZE_LEN); kexec-tools' include/kexec-pe-zboot.h names the same fields.
import { slice, startsWith } from '../../binary/bounds.js';
import { ascii, defineStruct, u32 } from '../../binary/struct.js';
import { FormatError } from '../../errors.js';
import { DEFAULT_MAX_OUTPUT, decompress } from '../compress/decompress.js';
import type { CompressionName } from '../compress/detect.js';
import { type PeInfo, parsePe } from '../pe/pe.js';

/** zboot-header.S: ".ascii "zimg"" right after the 4-byte "MZ" long, the image type. */
export const ZBOOT_MAGIC = 'zimg';
/** zboot-header.S: ".long LINUX_PE_MAGIC" at 0x38 (include/linux/pe.h: 0x818223cd). */
export const LINUX_PE_MAGIC = 0x818223cd;

/** The DOS-header fields zboot-header.S emits, at their offsets. */
export const ZbootHeader = defineStruct('zboot_header', {
  mz_magic: u32(0x00), // IMAGE_DOS_SIGNATURE "MZ" as a 32-bit long
  image_type: ascii(0x04, 4), // "zimg"
  payload_offset: u32(0x08), // __gzdata_start - start of file
  payload_size: u32(0x0c), // __gzdata_size - ZBOOT_SIZE_LEN: the compressed stream only
  reserved0: u32(0x10),
  reserved1: u32(0x14),
  comp_type: ascii(0x18, 0x38 - 0x18), // .asciz COMP_TYPE, e.g. "gzip", "zstd"; .org 0x38 ends it
  linux_pe_magic: u32(0x38),
  pe_header_offset: u32(0x3c), // e_lfanew, as in any PE
});

/** COMP_TYPE spellings (Makefile.zboot: comp-type-$(CONFIG_KERNEL_*)) → our decompressor names. */
export const ZBOOT_COMPRESSORS: Readonly<Record<string, CompressionName>> = {
  gzip: 'gzip',
  lz4: 'lz4',
  lzma: 'lzma',
  lzo: 'lzo',
  xz: 'xz',
  zstd: 'zstd',
  bzip2: 'bzip2',
};

export interface Zboot {
  pe: PeInfo | undefined;
  arch: string | undefined;
  payloadOffset: number;
  payloadSize: number;
  /** COMP_TYPE as written in the header. */
  compType: string;
  compression: CompressionName | undefined;
  /**
   * Makefile.zboot appends the uncompressed size (le32) after the payload for every compressor
   * but gzip (ZBOOT_SIZE_LEN = 4); gzip carries it as ISIZE. undefined when not in the file.
   */
  declaredSize: number | undefined;
}

export function isZboot(bytes: Uint8Array): boolean {
  return startsWith(bytes, [0x4d, 0x5a]) && startsWith(bytes, [0x7a, 0x69, 0x6d, 0x67], 4);
}

/** Parse the zboot header; undefined when the file is not a zboot image. Throws FormatError on lies. */
export function parseZboot(bytes: Uint8Array): Zboot | undefined {
  if (!isZboot(bytes) || bytes.byteLength < ZbootHeader.size) return undefined;
  const h = ZbootHeader.decode(bytes);
  slice(bytes, h.payload_offset, h.payload_size, 'zboot payload');
  const pe = parsePe(bytes);
  const compType = h.comp_type;
  const after = h.payload_offset + h.payload_size;
  const declaredSize =
    compType === 'gzip'
      ? h.payload_size >= 4
        ? new DataView(bytes.buffer, bytes.byteOffset + after - 4, 4).getUint32(0, true)
        : undefined
      : after + 4 <= bytes.byteLength
        ? new DataView(bytes.buffer, bytes.byteOffset + after, 4).getUint32(0, true)
        : undefined;
  return {
    pe,
    arch: pe?.arch,
    payloadOffset: h.payload_offset,
    payloadSize: h.payload_size,
    compType,
    compression: ZBOOT_COMPRESSORS[compType],
    declaredSize,
  };
}

/** The compressed payload (a view). */
export function zbootPayload(bytes: Uint8Array, z: Zboot): Uint8Array {
  return slice(bytes, z.payloadOffset, z.payloadSize, 'zboot payload');
}

/** Decompress the kernel inside a zboot image (an arm64/riscv64 Image for the kernels we know). */
export function unwrapZboot(bytes: Uint8Array, z: Zboot, maxOutput = DEFAULT_MAX_OUTPUT): Uint8Array {
  if (z.compression === undefined) {
    throw new FormatError(`zboot compression "${z.compType}" is unknown`, 'zboot', 0x18, {
      hint: 'zboot-header.S writes one of gzip, lz4, lzma, lzo, xz, zstd',
    });
  }
  return decompress(zbootPayload(bytes, z), maxOutput, z.compression);
}
