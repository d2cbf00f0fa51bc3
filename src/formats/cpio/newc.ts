// Recogniser for an initramfs in the cpio "newc" format, per the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst: a 110-byte ASCII header
// ("070701", or "070702" with checksums) of 8-digit hex fields, the NUL-terminated name, then the
// data; header+name and data are each padded to 4 bytes; "TRAILER!!!" ends an archive. The
// kernel accepts several archives back to back, possibly compressed, with NUL padding between.
import { slice, startsWith } from '../../binary/bounds.js';
import { ascii, defineStruct } from '../../binary/struct.js';
import { FormatError } from '../../errors.js';
import { detectCompression } from '../compress/detect.js';

export const CPIO_NEWC_MAGIC = '070701';
export const CPIO_CRC_MAGIC = '070702';
export const NEWC_TRAILER = 'TRAILER!!!';
/** c_mode file types: st_mode's S_IFMT bits (include/uapi/linux/stat.h). */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
/** A cap on members per archive; each needs ≥ 112 bytes, so the file size bounds it too. */
export const MAX_CPIO_MEMBERS = 4_000_000;
/** PATH_MAX: the longest name the kernel's initramfs unpacker accepts. */
export const MAX_CPIO_NAME = 4096;

const hex8 = (o: number) => ascii(o, 8);
export const CpioNewcHeader = defineStruct('cpio_newc_header', {
  c_magic: ascii(0, 6),
  c_ino: hex8(6),
  c_mode: hex8(14),
  c_uid: hex8(22),
  c_gid: hex8(30),
  c_nlink: hex8(38),
  c_mtime: hex8(46),
  c_filesize: hex8(54),
  c_maj: hex8(62),
  c_min: hex8(70),
  c_rmaj: hex8(78),
  c_rmin: hex8(86),
  c_namesize: hex8(94),
  c_chksum: hex8(102),
});

export function isCpio(bytes: Uint8Array): boolean {
  return startsWith(bytes, [0x30, 0x37, 0x30, 0x37, 0x30]) && (bytes[5] === 0x31 || bytes[5] === 0x32);
}

function parseHex(field: string, name: string, at: number): number {
  if (!/^[0-9a-fA-F]{8}$/.test(field)) throw new FormatError(`cpio ${name} is not 8 hex digits`, 'cpio', at);
  return Number.parseInt(field, 16);
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

export interface CpioSummary {
  /** Members of the first archive, not counting the trailer. */
  members: number;
  /** Byte offset just past the first archive's trailer (and its padding). */
  end: number;
  /** What follows the first archive, if anything: another cpio, a compressed one, or unknown. */
  next: string | undefined;
}

/** Walk the first archive's headers. Throws FormatError/TruncatedError on a malformed archive. */
export function summarizeCpio(bytes: Uint8Array): CpioSummary {
  let at = 0;
  let members = 0;
  for (;;) {
    const h = CpioNewcHeader.decode(bytes, at);
    if (h.c_magic !== CPIO_NEWC_MAGIC && h.c_magic !== CPIO_CRC_MAGIC) {
      throw new FormatError(`no cpio magic at 0x${at.toString(16)}`, 'cpio', at);
    }
    const namesize = parseHex(h.c_namesize, 'c_namesize', at);
    const filesize = parseHex(h.c_filesize, 'c_filesize', at);
    if (namesize === 0 || namesize > MAX_CPIO_NAME)
      throw new FormatError(`cpio c_namesize ${namesize}`, 'cpio', at);
    const nameBytes = slice(bytes, at + CpioNewcHeader.size, namesize - 1, 'cpio name');
    const name = String.fromCharCode(...nameBytes);
    const dataAt = pad4(at + CpioNewcHeader.size + namesize);
    slice(bytes, dataAt, filesize, 'cpio data');
    at = pad4(dataAt + filesize);
    if (name === NEWC_TRAILER) break;
    if (++members > MAX_CPIO_MEMBERS)
      throw new FormatError(`more than ${MAX_CPIO_MEMBERS} cpio members`, 'cpio', at);
  }
  let next = Math.min(at, bytes.byteLength);
  while (next < bytes.byteLength && bytes[next] === 0) next++;
  let following: string | undefined;
  if (next < bytes.byteLength) {
    const rest = bytes.subarray(next);
    following = isCpio(rest) ? 'cpio' : (detectCompression(rest) ?? 'unknown data');
  }
  return { members, end: at, next: following };
}
