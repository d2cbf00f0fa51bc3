// The PE section table: what a UKI is made of. Layout per the Microsoft "PE Format" specification,
// section "Section Table (Section Headers)": an array of NumberOfSections 40-byte headers right after
// the optional header. Field names follow the kernel's include/linux/pe.h (struct section_header).
import { slice } from '../../binary/bounds.js';
import { bytes, defineStruct, u16, u32 } from '../../binary/struct.js';
import { PeHeader, type PeInfo } from './pe.js';

/** pe.h struct section_header (40 bytes). */
export const SectionHeader = defineStruct('section_header', {
  name: bytes(0, 8), // NUL-padded UTF-8; "/N" names (string table) are for object files only
  virtual_size: u32(8), // VirtualSize: bytes in memory; may be smaller than raw_data_size
  virtual_address: u32(12),
  raw_data_size: u32(16), // SizeOfRawData: bytes on disk, a multiple of FileAlignment
  data_addr: u32(20), // PointerToRawData: file offset
  relocs: u32(24),
  line_numbers: u32(28),
  num_relocs: u16(32),
  num_lin_numbers: u16(34),
  flags: u32(36), // Characteristics
});
export const SECTION_HEADER_SIZE = 40;

export interface PeSection {
  name: string;
  /** File offset of the section's data. */
  offset: number;
  /** Bytes that belong to the section: VirtualSize when set and smaller than SizeOfRawData. */
  size: number;
  virtualSize: number;
  rawSize: number;
  virtualAddress: number;
}

function sectionName(raw: Uint8Array): string {
  const end = raw.indexOf(0);
  return Buffer.from(raw.subarray(0, end < 0 ? raw.length : end)).toString('latin1');
}

/**
 * Read the section table of a parsed PE. A header pointing outside the file is a TruncatedError;
 * the data of a section is checked only when it is read (sectionData), so `inspect` can still list
 * the others. Throws KexecError only.
 */
export function parsePeSections(image: Uint8Array, pe: PeInfo): PeSection[] {
  const optSize = PeHeader.decode(image, pe.peOffset).opt_hdr_size;
  const tableAt = pe.peOffset + PeHeader.size + optSize;
  // The whole table must be in the file before any header is read.
  slice(image, tableAt, pe.sections * SECTION_HEADER_SIZE, 'pe section table');
  const out: PeSection[] = [];
  for (let i = 0; i < pe.sections; i++) {
    const h = SectionHeader.decode(image, tableAt + i * SECTION_HEADER_SIZE);
    // "VirtualSize ... If this value is greater than SizeOfRawData, the section is zero-padded":
    // the file holds min(VirtualSize, SizeOfRawData) meaningful bytes. ukify and objcopy set
    // VirtualSize to the exact payload size, so it is the size of a .cmdline or .initrd.
    const size = h.virtual_size > 0 && h.virtual_size < h.raw_data_size ? h.virtual_size : h.raw_data_size;
    out.push({
      name: sectionName(h.name),
      offset: h.data_addr,
      size,
      virtualSize: h.virtual_size,
      rawSize: h.raw_data_size,
      virtualAddress: h.virtual_address,
    });
  }
  return out;
}

/** The bytes of one section (a view, no copy); TruncatedError when they lie past the end. */
export function sectionData(image: Uint8Array, s: PeSection): Uint8Array {
  return slice(image, s.offset, s.size, `pe section ${s.name}`);
}
