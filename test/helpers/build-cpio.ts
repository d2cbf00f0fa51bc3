// Small cpio "newc" archives for recogniser tests, written by the product's writer (src/initramfs) and
// not padded past the trailer, so tests control what follows.
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT } from '../../src/formats/cpio/newc.js';
import { type CpioEntry, encodeCpio } from '../../src/initramfs/index.js';

/** `mode` is a full st_mode (default 0o100644, a regular file); its file type picks the entry's kind. */
export function buildCpio(files: { name: string; data?: Uint8Array; mode?: number }[]): Uint8Array {
  const entries = files.map(({ name: path, data = new Uint8Array(0), mode = 0o100644 }): CpioEntry => {
    const perm = mode & 0o7777;
    const type = mode & S_IFMT;
    if (type === S_IFDIR) return { kind: 'dir', path, mode: perm };
    if (type === S_IFLNK) return { kind: 'symlink', path, target: new TextDecoder().decode(data) };
    if (type === S_IFCHR) return { kind: 'chardev', path, major: 0, minor: 0, mode: perm };
    if (type === S_IFBLK) return { kind: 'blockdev', path, major: 0, minor: 0, mode: perm };
    return { kind: 'bytes', path, data, mode: perm };
  });
  return encodeCpio(entries, { block: 4 });
}
