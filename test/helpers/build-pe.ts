// Synthetic PE images with sections (UKIs, zboot) built from the parser's own struct tables. Not
// bootable EFI programs: just the headers and section data the parsers read.
import {
  DataDirent,
  MzHeader,
  PE_OPT_MAGIC_PE32PLUS,
  Pe32PlusOptTail,
  PeHeader,
  PeOptMagic,
  WinCertificate,
} from '../../src/formats/pe/pe.js';
import { SECTION_HEADER_SIZE, SectionHeader } from '../../src/formats/pe/sections.js';
import { ZbootHeader } from '../../src/formats/zboot/zboot.js';

export interface SectionSpec {
  name: string;
  data: Uint8Array | string;
  /** Override VirtualSize (default: the data length). */
  virtualSize?: number;
}

export interface PeSpec {
  machine?: number;
  sections: SectionSpec[];
  /** Append a WIN_CERTIFICATE and point data directory 4 at it. */
  signed?: boolean;
  /** Where the PE header starts (e_lfanew); default 0x80. */
  peOffset?: number;
  /** Bytes written at offset 0 after "MZ" is set (e.g. a zboot header); must end before peOffset. */
  dosHeader?: (buf: Uint8Array) => void;
}

const FILE_ALIGN = 0x200;
const DATA_DIRS = 16;
const align = (n: number, a: number) => Math.ceil(n / a) * a;
const bytesOf = (d: Uint8Array | string) => (typeof d === 'string' ? new TextEncoder().encode(d) : d);

export function buildPe(spec: PeSpec): Uint8Array {
  const peAt = spec.peOffset ?? 0x80;
  const optSize = 112 + DATA_DIRS * DataDirent.size;
  const tableAt = peAt + PeHeader.size + optSize;
  let at = align(tableAt + spec.sections.length * SECTION_HEADER_SIZE, FILE_ALIGN);
  const placed = spec.sections.map((s) => {
    const data = bytesOf(s.data);
    const raw = align(data.byteLength, FILE_ALIGN);
    const p = { s, data, at, raw };
    at += raw;
    return p;
  });
  const certAt = at;
  const certSize = spec.signed ? 64 : 0;
  const buf = new Uint8Array(at + certSize);
  MzHeader.encode({ magic: 0x5a4d, peaddr: peAt }, buf);
  spec.dosHeader?.(buf);
  PeHeader.encode(
    { magic: 'PE', machine: spec.machine ?? 0x8664, sections: spec.sections.length, opt_hdr_size: optSize },
    buf,
    peAt,
  );
  const opt = peAt + PeHeader.size;
  PeOptMagic.encode({ magic: PE_OPT_MAGIC_PE32PLUS }, buf, opt);
  Pe32PlusOptTail.encode({ data_dirs: DATA_DIRS }, buf, opt);
  if (certSize > 0) {
    DataDirent.encode({ virtual_address: certAt, size: certSize }, buf, opt + 112 + 4 * DataDirent.size);
    WinCertificate.encode({ length: certSize, revision: 0x0200, cert_type: 2 }, buf, certAt);
  }
  let vma = 0x10000;
  placed.forEach((p, i) => {
    const name = new Uint8Array(8);
    name.set(new TextEncoder().encode(p.s.name).subarray(0, 8));
    SectionHeader.encode(
      {
        name,
        virtual_size: p.s.virtualSize ?? p.data.byteLength,
        virtual_address: vma,
        raw_data_size: p.raw,
        data_addr: p.at,
        flags: 0x40000040, // IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ
      },
      buf,
      tableAt + i * SECTION_HEADER_SIZE,
    );
    buf.set(p.data, p.at);
    vma += align(p.data.byteLength, 0x1000);
  });
  return buf;
}

/** A UKI: sections in the order ukify writes them. */
export function buildUki(parts: {
  linux: Uint8Array;
  initrd?: Uint8Array;
  ucode?: Uint8Array;
  cmdline?: string;
  osrel?: string;
  uname?: string;
  extra?: SectionSpec[];
  signed?: boolean;
}): Uint8Array {
  const sections: SectionSpec[] = [{ name: '.text', data: new Uint8Array(64) }];
  if (parts.osrel !== undefined) sections.push({ name: '.osrel', data: parts.osrel });
  if (parts.cmdline !== undefined) sections.push({ name: '.cmdline', data: parts.cmdline });
  if (parts.uname !== undefined) sections.push({ name: '.uname', data: parts.uname });
  sections.push(...(parts.extra ?? []));
  if (parts.ucode) sections.push({ name: '.ucode', data: parts.ucode });
  if (parts.initrd) sections.push({ name: '.initrd', data: parts.initrd });
  sections.push({ name: '.linux', data: parts.linux });
  return buildPe({ sections, ...(parts.signed ? { signed: true } : {}) });
}

/** An EFI zboot image: the zboot-header.S DOS header, a PE, and the compressed payload in .data. */
export function buildZboot(
  payload: Uint8Array,
  compType: string,
  machine = 0xaa64,
  sizeTrailer?: number,
): Uint8Array {
  const trailer = sizeTrailer === undefined ? new Uint8Array(0) : new Uint8Array(4);
  if (sizeTrailer !== undefined) new DataView(trailer.buffer).setUint32(0, sizeTrailer, true);
  const data = new Uint8Array([...payload, ...trailer]);
  let payloadAt = 0;
  const pe = buildPe({
    machine,
    sections: [
      { name: '.text', data: new Uint8Array(64) },
      { name: '.data', data },
    ],
  });
  // The payload sits at the start of the second section's raw data.
  payloadAt = SectionHeader.decode(
    pe,
    0x80 + PeHeader.size + 112 + DATA_DIRS * DataDirent.size + SECTION_HEADER_SIZE,
  ).data_addr;
  ZbootHeader.encode(
    {
      image_type: 'zimg',
      payload_offset: payloadAt,
      payload_size: payload.byteLength,
      comp_type: compType,
      linux_pe_magic: 0x818223cd,
    },
    pe,
  );
  return pe;
}
