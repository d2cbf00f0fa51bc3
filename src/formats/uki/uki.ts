// Unified Kernel Images (UKI): a PE (usually systemd-stub) whose sections carry a kernel, an initrd,
// a command line and metadata. Section names and meanings per the UAPI Group "Unified Kernel Image
// (UKI)" specification, §"UKI Format"; kexec-tools (kexec/kexec-uki.c) and systemd
// (src/shared/reboot-util.c) both recognise a UKI by its ".linux" section.
import { LimitError } from '../../errors.js';
import { type PeInfo, parsePe } from '../pe/pe.js';
import { type PeSection, parsePeSections, sectionData } from '../pe/sections.js';

/** Text sections longer than this are cut in the description (the data stays available). */
export const MAX_UKI_TEXT = 64 * 1024;
/** A kernel command line longer than this is refused (x86 COMMAND_LINE_SIZE is 2048; arm64 4096). */
export const MAX_UKI_CMDLINE = 64 * 1024;

export interface UkiPart {
  name: string;
  offset: number;
  size: number;
}

export interface Uki {
  pe: PeInfo;
  /** Base sections (before the first .profile), in file order. */
  parts: UkiPart[];
  /** How many .profile sections follow the base (multi-profile UKIs, systemd 257+). */
  profiles: number;
  linux: Uint8Array;
  /** .ucode followed by .initrd (systemd-stub passes them in this order), if either exists. */
  initrd: Uint8Array | undefined;
  cmdline: string | undefined;
  uname: string | undefined;
  /** os-release key/value pairs from .osrel. */
  osrel: Record<string, string> | undefined;
  dtb: Uint8Array | undefined;
}

/** os-release(5): KEY=VALUE lines; values may be single- or double-quoted; # starts a comment. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = v;
  }
  return out;
}

/** Section text: UTF-8, NUL padding and trailing whitespace removed. */
function text(bytes: Uint8Array, what: string, max: number): string {
  if (bytes.byteLength > max)
    throw new LimitError(`${what} is ${bytes.byteLength} bytes, over ${max}`, 'uki');
  return Buffer.from(bytes)
    .toString('utf8')
    .replace(/[\0\s]+$/, '');
}

/** Whether a parsed PE is a UKI: it has a ".linux" section. */
export function isUkiSections(sections: readonly PeSection[]): boolean {
  return sections.some((s) => s.name === '.linux');
}

/**
 * Parse a UKI; undefined when `bytes` is not a PE with a ".linux" section. A section that lies past
 * the end of the file is a TruncatedError; a text section over its limit a LimitError.
 */
export function parseUki(bytes: Uint8Array): Uki | undefined {
  const pe = parsePe(bytes);
  if (!pe) return undefined;
  const all = parsePeSections(bytes, pe);
  if (!isUkiSections(all)) return undefined;
  const firstProfile = all.findIndex((s) => s.name === '.profile');
  const base = firstProfile < 0 ? all : all.slice(0, firstProfile);
  const find = (name: string) => base.find((s) => s.name === name);
  const data = (name: string) => {
    const s = find(name);
    return s ? sectionData(bytes, s) : undefined;
  };
  const linux = data('.linux');
  if (!linux) return undefined; // a .linux only inside a profile: not a kernel we can pick
  const ucode = data('.ucode');
  const initrd = data('.initrd');
  const cmdline = data('.cmdline');
  const uname = data('.uname');
  const osrel = data('.osrel');
  return {
    pe,
    parts: base.map((s) => ({ name: s.name, offset: s.offset, size: s.size })),
    profiles: all.filter((s) => s.name === '.profile').length,
    linux,
    initrd: ucode && initrd ? Buffer.concat([ucode, initrd]) : (initrd ?? ucode),
    cmdline: cmdline ? text(cmdline, '.cmdline', MAX_UKI_CMDLINE) : undefined,
    uname: uname ? text(uname, '.uname', MAX_UKI_TEXT) : undefined,
    osrel: osrel ? parseOsRelease(text(osrel, '.osrel', MAX_UKI_TEXT)) : undefined,
    dtb: data('.dtb'),
  };
}
