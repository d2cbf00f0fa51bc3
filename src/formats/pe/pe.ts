// Just enough of PE/COFF to say whether an image is a PE and whether it carries an Authenticode
// signature. Structure per the Microsoft "PE Format" specification (sections "MS-DOS Stub",
// "Signature (Image Only)", "COFF File Header", "Optional Header Data Directories",
// "The Attribute Certificate Table"); field names follow the kernel's include/linux/pe.h.
import { slice, startsWith } from '../../binary/bounds.js';
import { ascii, defineStruct, u16, u32 } from '../../binary/struct.js';
import { KexecError } from '../../errors.js';

/** "MZ" at offset 0 (PE Format, "MS-DOS Stub (Image Only)"). */
export const MZ_MAGIC = [0x4d, 0x5a] as const;
/** "PE\0\0" at the offset stored at 0x3c (PE Format, "Signature (Image Only)"). */
export const PE_MAGIC = 'PE';
/** Optional header magic: PE32 and PE32+ (PE Format, "Optional Header Standard Fields"). */
export const PE_OPT_MAGIC_PE32 = 0x10b;
export const PE_OPT_MAGIC_PE32PLUS = 0x20b;
/** Data directory index of the Certificate Table (PE Format, "Optional Header Data Directories"). */
export const DATA_DIR_CERTS = 4;
/** WIN_CERTIFICATE wCertificateType for a PKCS#7 SignedData (Authenticode). */
export const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

/** pe.h struct mz_hdr: only the fields we use. */
export const MzHeader = defineStruct('mz_hdr', {
  magic: u16(0x00),
  peaddr: u32(0x3c), // e_lfanew: file offset of the PE signature
});

/** pe.h struct pe_hdr: the signature and the COFF File Header (24 bytes). */
export const PeHeader = defineStruct('pe_hdr', {
  magic: ascii(0, 4), // "PE\0\0": ascii() stops at the first NUL
  machine: u16(4),
  sections: u16(6),
  timestamp: u32(8),
  symbol_table: u32(12),
  symbols: u32(16),
  opt_hdr_size: u16(20),
  flags: u16(22),
});

/** The one field at the start of both optional-header kinds. */
export const PeOptMagic = defineStruct('pe_opt_magic', { magic: u16(0) });
/** pe.h pe32_opt_hdr / pe32plus_opt_hdr: `data_dirs` is NumberOfRvaAndSizes. */
export const Pe32OptTail = defineStruct('pe32_opt_hdr', { data_dirs: u32(92) });
export const Pe32PlusOptTail = defineStruct('pe32plus_opt_hdr', { data_dirs: u32(108) });
/** Where the data directory array starts inside each optional header kind. */
const DATA_DIRS_AT_PE32 = 96;
const DATA_DIRS_AT_PE32PLUS = 112;

/** pe.h struct data_dirent. For the certificate table, virtual_address is a FILE offset. */
export const DataDirent = defineStruct('data_dirent', { virtual_address: u32(0), size: u32(4) });

/** WIN_CERTIFICATE header (PE Format, "The Attribute Certificate Table (Image Only)"). */
export const WinCertificate = defineStruct('win_certificate', {
  length: u32(0),
  revision: u16(4),
  cert_type: u16(6),
});

/** COFF machine types (PE Format, "Machine Types"). */
export const PE_MACHINES: Readonly<Record<number, string>> = {
  332: 'i386',
  34404: 'x86_64',
  43620: 'arm64',
  452: 'arm',
  20580: 'riscv64',
  25188: 'loongarch64',
};

export interface PeInfo {
  peOffset: number;
  machine: number;
  arch: string | undefined;
  sections: number;
  optMagic: number;
  /** The certificate-table directory is non-empty. */
  signed: boolean;
  certOffset: number;
  certSize: number;
  /** Problems that do not stop the answer (e.g. a certificate table outside the file). */
  warnings: string[];
}

export function hasMz(bytes: Uint8Array): boolean {
  return startsWith(bytes, MZ_MAGIC);
}

/**
 * Parse the PE headers if `bytes` is a PE image; `undefined` when it is not (no MZ, no "PE\0\0" at
 * e_lfanew, or headers cut short). Never throws on malformed input.
 */
export function parsePe(bytes: Uint8Array): PeInfo | undefined {
  if (!hasMz(bytes)) return undefined;
  try {
    const peOffset = MzHeader.decode(bytes).peaddr;
    const pe = PeHeader.decode(bytes, peOffset);
    if (pe.magic !== PE_MAGIC || bytes[peOffset + 2] !== 0 || bytes[peOffset + 3] !== 0) return undefined;
    const optAt = peOffset + PeHeader.size;
    const opt = slice(bytes, optAt, pe.opt_hdr_size, 'pe_opt_hdr');
    const info: PeInfo = {
      peOffset,
      machine: pe.machine,
      arch: PE_MACHINES[pe.machine],
      sections: pe.sections,
      optMagic: 0,
      signed: false,
      certOffset: 0,
      certSize: 0,
      warnings: [],
    };
    if (opt.byteLength < PeOptMagic.size) return info;
    info.optMagic = PeOptMagic.decode(opt).magic;
    if (info.optMagic !== PE_OPT_MAGIC_PE32 && info.optMagic !== PE_OPT_MAGIC_PE32PLUS) return info;
    const pe32 = info.optMagic === PE_OPT_MAGIC_PE32;
    const tail = pe32 ? Pe32OptTail : Pe32PlusOptTail;
    if (opt.byteLength < tail.size) return info;
    const dirs = tail.decode(opt).data_dirs;
    const dirAt = (pe32 ? DATA_DIRS_AT_PE32 : DATA_DIRS_AT_PE32PLUS) + DATA_DIR_CERTS * DataDirent.size;
    if (dirs <= DATA_DIR_CERTS || dirAt + DataDirent.size > opt.byteLength) return info;
    const certs = DataDirent.decode(opt, dirAt);
    info.certOffset = certs.virtual_address;
    info.certSize = certs.size;
    info.signed = certs.size > 0;
    if (info.signed) checkCertificate(bytes, info);
    return info;
  } catch (e) {
    if (e instanceof KexecError) return undefined;
    throw e;
  }
}

/** Sanity checks on the certificate table; findings go to warnings, `signed` stays as declared. */
function checkCertificate(bytes: Uint8Array, info: PeInfo): void {
  if (info.certOffset + info.certSize > bytes.byteLength) {
    info.warnings.push(
      `certificate table 0x${info.certOffset.toString(16)}+0x${info.certSize.toString(16)} lies past the end of the file`,
    );
    return;
  }
  if (info.certSize < WinCertificate.size) {
    info.warnings.push('certificate table is too small for a WIN_CERTIFICATE');
    return;
  }
  const cert = WinCertificate.decode(bytes, info.certOffset);
  if (cert.cert_type !== WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
    info.warnings.push(`certificate type 0x${cert.cert_type.toString(16)} is not PKCS#7 SignedData`);
  }
}
