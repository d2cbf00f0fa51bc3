// An initramfs as the kernel unpacks it (init/initramfs.c unpack_to_rootfs(), described in
// Documentation/driver-api/early-userspace/buffer-format.rst): cpio "newc" archives back to back,
// NUL padding between them, and compressed segments, each of which decodes to more archives. The
// usual shape is an uncompressed early-microcode archive (kernel/x86/microcode/*.bin, read by the
// kernel before anything else) followed by the compressed main image.
import { slice } from '../../binary/bounds.js';
import { FormatError, KexecError } from '../../errors.js';
import { DEFAULT_MAX_OUTPUT, decompress } from '../compress/decompress.js';
import { canDecompress, detectCompression } from '../compress/detect.js';
import {
  CPIO_CRC_MAGIC,
  CPIO_NEWC_MAGIC,
  CpioNewcHeader,
  isCpio,
  MAX_CPIO_MEMBERS,
  MAX_CPIO_NAME,
  NEWC_TRAILER,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from './newc.js';

/** The ls(1) letter of each c_mode file type. */
const TYPE_LETTERS = new Map<number, string>([
  [S_IFSOCK, 's'],
  [S_IFLNK, 'l'],
  [S_IFREG, '-'],
  [S_IFBLK, 'b'],
  [S_IFDIR, 'd'],
  [S_IFCHR, 'c'],
  [S_IFIFO, 'p'],
]);
/** Compressed segments may not nest deeper than this (the kernel does not nest at all). */
const MAX_DEPTH = 2;

export interface CpioMember {
  name: string;
  /** ls(1) type letter: '-' file, 'd' directory, 'l' symlink, 'c'/'b' devices, 'p' fifo, 's' socket. */
  type: string;
  mode: number;
  size: number;
  /** Index into InitramfsInfo.segments. */
  segment: number;
}

export interface InitramfsSegment {
  /** Offset in the file (for segments inside a compressed one: in the decoded data). */
  offset: number;
  /** 'none' for a plain archive, else the compression of the segment it came from. */
  compression: string;
  /** Archives (trailers) in this segment. */
  archives: number;
  members: number;
  /** Bytes the segment occupies (decoded size for compressed ones). */
  size: number;
}

export interface InitramfsInfo {
  segments: InitramfsSegment[];
  members: CpioMember[];
  /** kernel/x86/microcode/GenuineIntel.bin or AuthenticAMD.bin in an uncompressed leading archive. */
  microcode: string[];
  /** Has /init (the kernel runs it; without it, it falls back to root=). */
  hasInit: boolean;
  warnings: string[];
}

function hexField(v: string, name: string, at: number): number {
  if (!/^[0-9a-fA-F]{8}$/.test(v)) throw new FormatError(`cpio ${name} is not 8 hex digits`, 'cpio', at);
  return Number.parseInt(v, 16);
}
const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** One archive from `at`; returns the offset after its trailer. */
function walkArchive(bytes: Uint8Array, at: number, out: CpioMember[], segment: number): number {
  for (;;) {
    const h = CpioNewcHeader.decode(bytes, at);
    if (h.c_magic !== CPIO_NEWC_MAGIC && h.c_magic !== CPIO_CRC_MAGIC)
      throw new FormatError(`no cpio magic at 0x${at.toString(16)}`, 'cpio', at);
    const namesize = hexField(h.c_namesize, 'c_namesize', at);
    const filesize = hexField(h.c_filesize, 'c_filesize', at);
    const mode = hexField(h.c_mode, 'c_mode', at);
    if (namesize === 0 || namesize > MAX_CPIO_NAME)
      throw new FormatError(`cpio c_namesize ${namesize}`, 'cpio', at);
    const name = Buffer.from(slice(bytes, at + CpioNewcHeader.size, namesize - 1, 'cpio name')).toString(
      'utf8',
    );
    const dataAt = pad4(at + CpioNewcHeader.size + namesize);
    slice(bytes, dataAt, filesize, 'cpio data');
    at = pad4(dataAt + filesize);
    if (name === NEWC_TRAILER) return at;
    if (out.length >= MAX_CPIO_MEMBERS)
      throw new FormatError(`more than ${MAX_CPIO_MEMBERS} cpio members`, 'cpio', at);
    out.push({
      name,
      type: TYPE_LETTERS.get(mode & S_IFMT) ?? '?',
      mode: mode & 0o7777,
      size: filesize,
      segment,
    });
  }
}

/** Walk archives and compressed segments from `start` to the end of `bytes`. */
function walk(bytes: Uint8Array, info: InitramfsInfo, maxOutput: number, depth: number, via: string): void {
  let at = 0;
  while (at < bytes.byteLength) {
    // buffer-format.rst: "zero or more NUL bytes" may separate the pieces (4-byte steps in practice).
    while (at < bytes.byteLength && bytes[at] === 0) at++;
    if (at >= bytes.byteLength) return;
    const rest = bytes.subarray(at);
    if (isCpio(rest)) {
      const seg = info.segments.length;
      const before = info.members.length;
      info.segments.push({ offset: at, compression: via, archives: 0, members: 0, size: 0 });
      const s = info.segments[seg]!;
      // Consecutive archives of one segment are counted together.
      while (at < bytes.byteLength && isCpio(bytes.subarray(at))) {
        const start = at;
        at = walkArchive(bytes, at, info.members, seg);
        s.archives++;
        s.size += at - start;
        while (at < bytes.byteLength && bytes[at] === 0) at++;
      }
      s.members = info.members.length - before;
      continue;
    }
    const kind = detectCompression(rest);
    if (kind === undefined) {
      info.warnings.push(
        `unrecognised data at 0x${at.toString(16)} (${bytes.byteLength - at} bytes) ends the walk`,
      );
      return;
    }
    if (!canDecompress(kind) || depth >= MAX_DEPTH) {
      info.warnings.push(`${kind} segment at 0x${at.toString(16)} not decoded`);
      return;
    }
    // A compressed segment runs to the end of the file (the kernel's decompressors stop at the end of
    // their stream; trailing archives after a compressed one are rare and not supported here).
    walk(decompress(rest, maxOutput, kind), info, maxOutput, depth + 1, kind);
    return;
  }
}

/** Every member of every archive, with per-segment counts; throws KexecError on a malformed archive. */
export function listInitramfs(bytes: Uint8Array, maxOutput = DEFAULT_MAX_OUTPUT): InitramfsInfo {
  const info: InitramfsInfo = { segments: [], members: [], microcode: [], hasInit: false, warnings: [] };
  try {
    walk(bytes, info, maxOutput, 0, 'none');
  } catch (e) {
    if (!(e instanceof KexecError) || info.members.length === 0) throw e;
    info.warnings.push(e.message); // keep what was read before the damage
  }
  const first = info.segments[0];
  for (const m of info.members) {
    const name = m.name.replace(/^\.?\//, '');
    if (name === 'init') info.hasInit = true;
    if (first?.compression === 'none' && m.segment === 0 && /^kernel\/x86\/microcode\/\w+\.bin$/.test(name))
      info.microcode.push(name.slice('kernel/x86/microcode/'.length));
  }
  return info;
}

/** A one-line summary: "2 segments: cpio (3 members), zstd cpio (1234 members)". */
export function summarizeInitramfs(info: InitramfsInfo): string {
  const parts = info.segments.map(
    (s) => `${s.compression === 'none' ? '' : `${s.compression} `}cpio (${s.members} members)`,
  );
  return `${info.segments.length} segment${info.segments.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
