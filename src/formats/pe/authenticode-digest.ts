// The Authenticode image digest of a PE file: what a PE signature signs. Procedure per Microsoft's
// "Windows Authenticode Portable Executable Signature Format" (Authenticode_PE.docx, "Calculating the PE
// Image Hash"): hash the headers except the CheckSum field and the Certificate Table data directory
// entry, then every section's raw data in file-offset order, then any data after the last section up to
// the end of the file less the Certificate Table's size. The kernel does the same in
// crypto/asymmetric_keys/verify_pefile.c (pefile_digest_pe_contents), which is what kexec_file_load checks.
import { createHash } from 'node:crypto';
import { slice } from '../../binary/bounds.js';
import { defineStruct, u32 } from '../../binary/struct.js';
import { FormatError } from '../../errors.js';
import { DATA_DIR_CERTS, DataDirent, PE_OPT_MAGIC_PE32, PeHeader, type PeInfo } from './pe.js';
import { parsePeSections } from './sections.js';

/** pe.h pe32_opt_hdr / pe32plus_opt_hdr: SizeOfHeaders and CheckSum are at the same offsets in both. */
export const PeOptHeaderSizes = defineStruct('pe_opt_hdr', {
  header_size: u32(60), // SizeOfHeaders
  csum: u32(64), // CheckSum (PE Format, "Optional Header Windows-Specific Fields")
});
/** Where the data directory array starts in a PE32 / PE32+ optional header. */
const DATA_DIRS_AT = { pe32: 96, pe32plus: 112 } as const;

/** The ranges of the file the digest covers, in order (for tests and --json). */
export interface DigestRange {
  offset: number;
  length: number;
  what: string;
}

/** The byte ranges hashed, in the spec's order. Throws FormatError/TruncatedError on a lying header. */
export function authenticodeRanges(image: Uint8Array, pe: PeInfo): DigestRange[] {
  const optAt = pe.peOffset + PeHeader.size;
  const sizes = PeOptHeaderSizes.decode(image, optAt);
  const csumAt = optAt + 64;
  const dirAt =
    optAt +
    (pe.optMagic === PE_OPT_MAGIC_PE32 ? DATA_DIRS_AT.pe32 : DATA_DIRS_AT.pe32plus) +
    DATA_DIR_CERTS * 8;
  const headerSize = sizes.header_size;
  if (headerSize < dirAt + DataDirent.size || headerSize > image.byteLength)
    throw new FormatError(
      `pe_opt_hdr.header_size 0x${headerSize.toString(16)} does not cover the data directories`,
      'pe',
      optAt + 60,
      { hint: 'the PE headers are corrupt: the image cannot be hashed' },
    );
  const ranges: DigestRange[] = [
    { offset: 0, length: csumAt, what: 'headers before CheckSum' },
    { offset: csumAt + 4, length: dirAt - (csumAt + 4), what: 'headers up to the Certificate Table entry' },
    { offset: dirAt + 8, length: headerSize - (dirAt + 8), what: 'rest of the headers' },
  ];
  let hashed = headerSize;
  const sections = parsePeSections(image, pe)
    .filter((s) => s.rawSize > 0)
    .sort((a, b) => a.offset - b.offset);
  for (const s of sections) {
    slice(image, s.offset, s.rawSize, `pe section ${s.name}`);
    ranges.push({ offset: s.offset, length: s.rawSize, what: `section ${s.name}` });
    hashed += s.rawSize;
  }
  const fileSize = image.byteLength - (pe.signed ? pe.certSize : 0);
  if (fileSize > hashed)
    ranges.push({ offset: hashed, length: fileSize - hashed, what: 'data after the sections' });
  return ranges;
}

/** Node's name for the hash: 'sha256', 'sha1', ... */
export function authenticodeDigest(image: Uint8Array, pe: PeInfo, hash: string): Uint8Array {
  const h = createHash(hash);
  for (const r of authenticodeRanges(image, pe)) h.update(slice(image, r.offset, r.length, r.what));
  return new Uint8Array(h.digest());
}
