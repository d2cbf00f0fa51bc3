// Compression formats recognised by their leading magic bytes. Used twice: for a whole file
// (kexec-tools' slurp_decompress_file() tries gzip, zstd, then xz/lzma on the entire kernel) and for
// the payload inside a bzImage (boot.rst, "Details of Header Fields", payload_offset lists the magics).
import { startsWith } from '../../binary/bounds.js';

export type CompressionName = 'gzip' | 'xz' | 'zstd' | 'lz4' | 'lz4-frame' | 'bzip2' | 'lzma' | 'lzo';

export interface CompressionMagic {
  readonly name: CompressionName;
  readonly magic: readonly number[];
  /** Where the magic is defined. */
  readonly spec: string;
}

/** Order matters only where magics share a prefix (none do today). */
export const COMPRESSORS: readonly CompressionMagic[] = [
  { name: 'gzip', magic: [0x1f, 0x8b], spec: 'RFC 1952 §2.3.1 ID1 ID2' },
  { name: 'gzip', magic: [0x1f, 0x9e], spec: 'boot.rst payload_offset: old gzip magic 1F 9E' },
  {
    name: 'xz',
    magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    spec: 'xz-file-format §2.1.1.1 Header Magic Bytes',
  },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], spec: 'RFC 8878 §3.1.1 Magic_Number 0xFD2FB528' },
  // The kernel's lz4 payload uses the legacy frame (lib/decompress_unlz4.c, ARCHIVE_MAGICNUMBER).
  { name: 'lz4', magic: [0x02, 0x21, 0x4c, 0x18], spec: 'lz4 legacy frame magic 0x184C2102' },
  { name: 'lz4-frame', magic: [0x04, 0x22, 0x4d, 0x18], spec: 'lz4 frame format magic 0x184D2204' },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68], spec: "bzip2 stream header 'BZh'" },
  // lzma "alone" header: properties byte 0x5D (lc=3 lp=0 pb=2) then a little-endian dictionary size
  // whose low bytes are zero for the usual power-of-two sizes. Weak: used only after the others fail.
  { name: 'lzma', magic: [0x5d, 0x00, 0x00], spec: 'lzma-alone header, properties 0x5D' },
  { name: 'lzo', magic: [0x89, 0x4c, 0x5a, 0x4f], spec: "lzop file magic 0x89 'LZO'" },
];

/** The compression whose magic starts at `at`, if any. */
export function detectCompression(bytes: Uint8Array, at = 0): CompressionName | undefined {
  for (const c of COMPRESSORS) if (startsWith(bytes, c.magic, at)) return c.name;
  return undefined;
}

/**
 * Formats `decompress()` can undo. kexec-tools undoes gzip, zstd and xz/lzma (liblzma) whole files;
 * lz4 (legacy frame, the kernel's) and bzip2 are decoded too, for bzImage payloads, zboot and initramfs.
 */
export const DECOMPRESSIBLE: readonly CompressionName[] = [
  'gzip',
  'zstd',
  'xz',
  'lzma',
  'lz4',
  'lz4-frame',
  'bzip2',
];

export function canDecompress(name: CompressionName | undefined): boolean {
  return name !== undefined && DECOMPRESSIBLE.includes(name);
}
