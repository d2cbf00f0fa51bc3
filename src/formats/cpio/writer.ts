// cpio "newc" records as the kernel unpacks them (Documentation/driver-api/early-userspace/
// buffer-format.rst), encoded through the CpioNewcHeader table that summarizeCpio decodes with. What goes
// into an archive and where file data comes from is src/initramfs/ (the one writer of archives).
import { CPIO_NEWC_MAGIC, CpioNewcHeader, NEWC_TRAILER } from './newc.js';

/** One member's header fields; the ones left out are 0 (mtime 0 keeps archives reproducible). */
export interface NewcRecord {
  ino: number;
  /** st_mode: file type and permission bits. */
  mode: number;
  filesize: number;
  name: string;
  uid?: number;
  gid?: number;
  nlink?: number;
  mtime?: number;
  /** Device number of a character or block device node. */
  rmajor?: number;
  rminor?: number;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** Zero bytes that bring `n` to a multiple of 4 (header+name and data are each padded so). */
export function newcPadding(n: number): Uint8Array {
  return new Uint8Array((4 - (n % 4)) % 4);
}

/** The 110-byte header, the NUL-terminated name and the padding after it. */
export function newcHeader(r: NewcRecord): Uint8Array {
  const name = new TextEncoder().encode(`${r.name}\0`);
  const size = CpioNewcHeader.size + name.byteLength;
  const out = new Uint8Array(size + newcPadding(size).byteLength);
  CpioNewcHeader.encode(
    {
      c_magic: CPIO_NEWC_MAGIC,
      c_ino: hex8(r.ino),
      c_mode: hex8(r.mode),
      c_uid: hex8(r.uid ?? 0),
      c_gid: hex8(r.gid ?? 0),
      c_nlink: hex8(r.nlink ?? 1),
      c_mtime: hex8(r.mtime ?? 0),
      c_filesize: hex8(r.filesize),
      c_maj: hex8(0),
      c_min: hex8(0),
      c_rmaj: hex8(r.rmajor ?? 0),
      c_rmin: hex8(r.rminor ?? 0),
      c_namesize: hex8(name.byteLength),
      c_chksum: hex8(0),
    },
    out,
  );
  out.set(name, CpioNewcHeader.size);
  return out;
}

/** The record that ends an archive. */
export function newcTrailer(): Uint8Array {
  return newcHeader({ ino: 0, mode: 0, filesize: 0, name: NEWC_TRAILER });
}
