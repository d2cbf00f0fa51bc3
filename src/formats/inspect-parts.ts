// The parts of `inspect` for containers: what a UKI or zboot image wraps, what an initramfs holds,
// and the multiboot/riscv details. Each fills the JSON-able ImageInfo (inspect.ts) and never throws
// on malformed input: findings become warnings.
import { KexecError } from '../errors.js';
import { type InitramfsInfo, listInitramfs, summarizeInitramfs } from './cpio/initramfs.js';
import type { MultibootInfo } from './multiboot/multiboot.js';
import type { RiscvImage } from './riscv/image.js';
import type { Uki } from './uki/uki.js';
import { unwrapZboot, type Zboot } from './zboot/zboot.js';

/** A kernel described by inspectImage (kept structural to avoid an import cycle). */
export interface InnerInfo {
  type: string;
  arch?: string;
  kernelVersion?: string;
  loadPaths: string[];
  warnings: string[];
  [key: string]: unknown;
}
export type InspectFn = (bytes: Uint8Array, name: string | undefined) => InnerInfo;

export interface InitramfsSummary {
  summary: string;
  segments: { offset: string; compression: string; archives: number; members: number; size: number }[];
  /** Members across every archive. */
  members: number;
  microcode: string[];
  hasInit: boolean;
  /** Every member as "type mode size name" (only with --members). */
  list?: string[];
}

export interface UkiSummary {
  /** Sections in file order with their sizes. */
  parts: { name: string; size: number }[];
  uname?: string;
  prettyName?: string;
  osrel?: Record<string, string>;
  cmdline?: string;
  profiles: number;
  initrd?: InitramfsSummary & { size: number };
  /** The .linux kernel, described in turn. */
  kernel: InnerInfo;
}

export interface ZbootSummary {
  compType: string;
  payloadOffset: string;
  payloadSize: number;
  declaredSize?: number;
  /** The decompressed kernel, described in turn (absent when it would not decompress). */
  kernel?: InnerInfo;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export function initramfsSummary(info: InitramfsInfo, members: boolean): InitramfsSummary {
  const out: InitramfsSummary = {
    summary: summarizeInitramfs(info),
    segments: info.segments.map((s) => ({ ...s, offset: hex(s.offset) })),
    members: info.members.length,
    microcode: info.microcode,
    hasInit: info.hasInit,
  };
  if (members)
    out.list = info.members.map(
      (m) => `${m.type} ${m.mode.toString(8).padStart(4, '0')} ${String(m.size).padStart(10)} ${m.name}`,
    );
  return out;
}

/** List an initramfs; a damaged one yields what could be read and a warning. */
export function describeInitramfs(
  bytes: Uint8Array,
  maxOutput: number,
  members: boolean,
  warnings: string[],
): InitramfsSummary | undefined {
  try {
    const info = listInitramfs(bytes, maxOutput);
    warnings.push(...info.warnings.map((w) => `initramfs: ${w}`));
    return initramfsSummary(info, members);
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    warnings.push(`cpio: ${e.message}`);
    return undefined;
  }
}

export function describeUki(
  uki: Uki,
  inspect: InspectFn,
  maxOutput: number,
  members: boolean,
  warnings: string[],
): UkiSummary {
  const kernel = inspect(uki.linux, '.linux');
  const out: UkiSummary = {
    parts: uki.parts.map((p) => ({ name: p.name, size: p.size })),
    profiles: uki.profiles,
    kernel,
  };
  if (uki.uname !== undefined) out.uname = uki.uname;
  if (uki.osrel !== undefined) {
    out.osrel = uki.osrel;
    if (uki.osrel['PRETTY_NAME'] !== undefined) out.prettyName = uki.osrel['PRETTY_NAME'];
  }
  if (uki.cmdline !== undefined) out.cmdline = uki.cmdline;
  if (uki.initrd !== undefined) {
    const s = describeInitramfs(uki.initrd, maxOutput, members, warnings);
    if (s) out.initrd = { size: uki.initrd.byteLength, ...s };
  }
  if (kernel.kernelVersion && uki.uname && !kernel.kernelVersion.startsWith(uki.uname))
    warnings.push(`.uname "${uki.uname}" differs from the .linux kernel version "${kernel.kernelVersion}"`);
  return out;
}

export function describeZboot(
  bytes: Uint8Array,
  z: Zboot,
  inspect: InspectFn,
  maxOutput: number,
  warnings: string[],
): ZbootSummary {
  const out: ZbootSummary = {
    compType: z.compType,
    payloadOffset: hex(z.payloadOffset),
    payloadSize: z.payloadSize,
  };
  if (z.declaredSize !== undefined) out.declaredSize = z.declaredSize;
  try {
    const inner = unwrapZboot(bytes, z, maxOutput);
    out.kernel = inspect(inner, 'zboot payload');
    if (z.declaredSize !== undefined && z.declaredSize !== inner.byteLength)
      warnings.push(
        `zboot payload decodes to ${inner.byteLength} bytes, the header trailer says ${z.declaredSize}`,
      );
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    warnings.push(`zboot: ${e.message}`);
  }
  return out;
}

export function multibootNotes(name: string, m: MultibootInfo): string[] {
  const notes = [`${name} header at ${hex(m.offset)}; kexec-ts has no multiboot loader`];
  if (m.flags !== undefined) notes.push(`flags ${hex(m.flags)}: ${m.flagNames?.join(', ') || 'none'}`);
  if (m.architecture !== undefined)
    notes.push(`architecture ${m.architecture}, header_length ${m.headerLength}`);
  for (const t of m.tags ?? [])
    notes.push(`tag ${t.type} (${t.name}${t.optional ? ', optional' : ''}), ${t.size} bytes`);
  return notes;
}

export function riscvNotes(r: RiscvImage): string[] {
  return [
    `text_offset 0x${r.textOffset.toString(16)}, image_size 0x${r.imageSize.toString(16)}, header version ${r.version}${r.bigEndian ? ', big-endian' : ''}`,
    'riscv64 kernel: kexec-ts loads x86_64 kernels only',
  ];
}
