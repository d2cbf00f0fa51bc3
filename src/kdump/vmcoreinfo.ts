// The VMCOREINFO note: ASCII `KEY=VALUE` lines the crashed kernel wrote for dump tools. Key forms and
// value formats from the kernel's include/linux/vmcore_info.h (VMCOREINFO_SYMBOL/SIZE/OFFSET/NUMBER/LENGTH
// macros) and Documentation/admin-guide/kdump/vmcoreinfo.rst. No key order or presence is assumed.
import { FormatError } from '../errors.js';

/** VMCOREINFO_BYTES is one page on every architecture (kernel/vmcore_info.c); we accept up to 64 KiB. */
export const MAX_VMCOREINFO_BYTES = 65536;

export interface Vmcoreinfo {
  /** OSRELEASE=: utsname release, e.g. "6.1.0-56-amd64". */
  osrelease: string | undefined;
  /** BUILD-ID=: hex. */
  buildId: string | undefined;
  /** PAGESIZE=: decimal. */
  pageSize: number | undefined;
  /** CRASHTIME=: seconds since the epoch, appended at panic time. */
  crashTime: number | undefined;
  /** KERNELOFFSET=: the KASLR virtual offset, hex without 0x. */
  kernelOffset: bigint | undefined;
  /** SYMBOL(name)=: addresses, hex without 0x, already relocated. */
  symbols: Record<string, bigint>;
  /** SIZE(type)=: decimal. */
  sizes: Record<string, number>;
  /** OFFSET(type.field)=: decimal; key "type.field". */
  offsets: Record<string, number>;
  /** NUMBER(name)=: signed decimal (%ld), or 0x-prefixed hex (NUMBER(VMALLOC_START)). */
  numbers: Record<string, bigint>;
  /** LENGTH(name)=: decimal. */
  lengths: Record<string, number>;
  /** CONFIG_X=y lines. */
  configs: Record<string, string>;
  /** Every KEY=VALUE line as written, in order (later duplicates win in the typed maps). */
  entries: [string, string][];
  /** Lines that did not parse (no '=', or a value not of the key's form). */
  malformed: string[];
}

const FORM = /^(SYMBOL|SIZE|OFFSET|NUMBER|LENGTH)\((.+)\)$/;
const HEX = /^(0x)?[0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;
const SDEC = /^-?[0-9]+$/;

function hex(v: string): bigint | undefined {
  return HEX.test(v) ? BigInt(v.startsWith('0x') ? v : `0x${v}`) : undefined;
}
function dec(v: string): number | undefined {
  if (!DEC.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}
function signed(v: string): bigint | undefined {
  if (SDEC.test(v)) return BigInt(v);
  return v.startsWith('0x') ? hex(v) : undefined;
}

/** Parses the note's text (trailing NULs allowed). Never throws on content; see `malformed`. */
export function parseVmcoreinfo(text: string): Vmcoreinfo {
  if (text.length > MAX_VMCOREINFO_BYTES) {
    throw new FormatError(`VMCOREINFO is ${text.length} bytes, more than ${MAX_VMCOREINFO_BYTES}`, 'vmcore');
  }
  const info: Vmcoreinfo = {
    osrelease: undefined,
    buildId: undefined,
    pageSize: undefined,
    crashTime: undefined,
    kernelOffset: undefined,
    symbols: {},
    sizes: {},
    offsets: {},
    numbers: {},
    lengths: {},
    configs: {},
    entries: [],
    malformed: [],
  };
  for (const raw of text.replace(/\0+$/, '').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      info.malformed.push(line);
      continue;
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    info.entries.push([key, value]);
    if (!store(info, key, value)) info.malformed.push(line);
  }
  return info;
}

/** Files one entry into its typed map; false when the value is not of the key's form. */
function store(info: Vmcoreinfo, key: string, value: string): boolean {
  const m = FORM.exec(key);
  if (m) {
    const [, form, name] = m as unknown as [string, string, string];
    switch (form) {
      case 'SYMBOL':
        return put(info.symbols, name, hex(value));
      case 'SIZE':
        return put(info.sizes, name, dec(value));
      case 'OFFSET':
        return put(info.offsets, name, dec(value));
      case 'LENGTH':
        return put(info.lengths, name, dec(value));
      default:
        return put(info.numbers, name, signed(value));
    }
  }
  switch (key) {
    case 'OSRELEASE':
      info.osrelease = value;
      return true;
    case 'BUILD-ID':
      info.buildId = value;
      return true;
    case 'PAGESIZE':
      info.pageSize = dec(value);
      return info.pageSize !== undefined;
    case 'CRASHTIME':
      info.crashTime = dec(value);
      return info.crashTime !== undefined;
    case 'KERNELOFFSET':
      info.kernelOffset = hex(value);
      return info.kernelOffset !== undefined;
  }
  if (key.startsWith('CONFIG_')) {
    info.configs[key] = value;
    return true;
  }
  return true; // an unknown key with a value: kept in `entries` only
}

function put<T>(map: Record<string, T>, name: string, value: T | undefined): boolean {
  if (value === undefined) return false;
  map[name] = value;
  return true;
}

/** A required SIZE/OFFSET/SYMBOL lookup with an error naming the missing key. */
export function need<T>(map: Record<string, T>, form: string, name: string): T {
  const v = map[name];
  if (v === undefined) {
    throw new FormatError(`VMCOREINFO has no ${form}(${name})`, 'vmcore', undefined, {
      hint: 'the crashed kernel did not export this key; this kernel version may not be supported',
    });
  }
  return v;
}

/** The note text as a string: ASCII (latin1 keeps bytes 1:1). */
export function vmcoreinfoText(desc: Uint8Array): string {
  let end = desc.byteLength;
  while (end > 0 && desc[end - 1] === 0) end--;
  return Buffer.from(desc.buffer, desc.byteOffset, end).toString('latin1');
}
