// SHA256SUMS files as Debian publishes them (debian-installer images: `HEX  ./path` per line) and the
// SHA256 section of a Release/InRelease file (` HEX SIZE path`), parsed, looked up and checked.
// Format: Debian Policy / https://wiki.debian.org/DebianRepository/Format ("SHA256" field).
import { createHash } from 'node:crypto';
import { FormatError, KexecError } from '../../errors.js';

/** A file's digest did not match the one its checksum list gives. */
export class ChecksumMismatchError extends KexecError {
  static override readonly code = 'E_CHECKSUM_MISMATCH';
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    readonly source: string,
  ) {
    super(`sha256(${file}) = ${actual}, but ${source} lists ${expected}`, {
      hint: 'the download is corrupt or was tampered with; nothing was loaded',
    });
  }
}

/** The checksum list has no entry for the file. */
export class ChecksumMissingError extends KexecError {
  static override readonly code = 'E_CHECKSUM_MISSING';
  constructor(
    readonly file: string,
    readonly source: string,
  ) {
    super(`${source} has no SHA256 entry for ${file}`, {
      hint: 'check the path, or pass --sha256 HEX (or --insecure to skip verification)',
    });
  }
}

export interface ChecksumEntry {
  readonly sha256: string;
  readonly size?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

function normalisePath(p: string): string {
  return p.replace(/^\.\//, '').replace(/^\*/, '');
}

/** Parses a sha256sum(1)-style list; `./` prefixes and binary-mode `*` markers are dropped. */
export function parseSha256Sums(text: string, source = 'SHA256SUMS'): Map<string, ChecksumEntry> {
  const out = new Map<string, ChecksumEntry>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([0-9a-fA-F]{64})\s+(\*?\S.*)$/.exec(line);
    if (m === null) throw new FormatError(`${source}:${i + 1}: not a "HEX  path" line`, 'sha256sums');
    out.set(normalisePath(m[2] as string), { sha256: (m[1] as string).toLowerCase() });
  }
  return out;
}

/**
 * The SHA256 field of a Release file (the signed body of an InRelease): ` HEX SIZE path` lines
 * following `SHA256:` until the next field.
 */
export function parseReleaseSha256(text: string, source = 'Release'): Map<string, ChecksumEntry> {
  const out = new Map<string, ChecksumEntry>();
  let inField = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\S/.test(line)) {
      inField = /^SHA256:\s*$/.test(line);
      continue;
    }
    if (!inField || line.trim() === '') continue;
    const parts = line.trim().split(/\s+/);
    const [hex, size, path] = parts;
    if (
      parts.length !== 3 ||
      hex === undefined ||
      !HEX64.test(hex.toLowerCase()) ||
      !/^\d+$/.test(size ?? '')
    )
      throw new FormatError(`${source}: bad SHA256 line "${line.trim()}"`, 'release');
    out.set(path as string, { sha256: hex.toLowerCase(), size: Number(size) });
  }
  return out;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Checks data against the list's entry for `file`; throws a typed error on a missing entry or mismatch. */
export function checkSha256(
  list: ReadonlyMap<string, ChecksumEntry>,
  file: string,
  data: Uint8Array,
  source: string,
): string {
  const entry = list.get(normalisePath(file));
  if (entry === undefined) throw new ChecksumMissingError(file, source);
  const actual = sha256Hex(data);
  if (actual !== entry.sha256) throw new ChecksumMismatchError(file, entry.sha256, actual, source);
  return actual;
}
