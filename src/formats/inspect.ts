// inspectImage: a JSON-able description of a kernel or initramfs for `kexec-ts inspect`, built on
// the probes. It describes rather than judges: malformed input yields warnings, not exceptions.
import { KexecError } from '../errors.js';
import type { BzImage } from './bzimage/parse.js';
import { flagNames, formatProtocol, XLOADFLAG_NAMES } from './bzimage/setup-header.js';
import { DEFAULT_MAX_OUTPUT, decompress } from './compress/decompress.js';
import { canDecompress, detectCompression } from './compress/detect.js';
import { isCpio } from './cpio/newc.js';
import { decodeElfHeader, ELF_MACHINES, isElf } from './elf/ehdr.js';
import { PT_LOAD } from './elf/phdr.js';
import type { ElfImage } from './elf/probe.js';
import {
  describeInitramfs,
  describeUki,
  describeZboot,
  type InitramfsSummary,
  type InnerInfo,
  multibootNotes,
  riscvNotes,
  type UkiSummary,
  type ZbootSummary,
} from './inspect-parts.js';
import { parsePe } from './pe/pe.js';
import { verifyImageSignature } from './pe/verify-signature.js';
import { type ProbeMatch, probeAll } from './probe.js';

export interface ImageInfo {
  name?: string;
  /** Loader name ('bzImage64', 'elf-x86_64', ...), 'initramfs', 'elf', 'compressed' or 'unknown'. */
  type: string;
  arch?: string;
  kernelVersion?: string;
  /** Whole-file compression (what kexec-tools undoes before probing). */
  compression?: string;
  /** Compression of the kernel inside a bzImage (payload_offset). */
  payloadCompression?: string;
  /** Boot protocol, e.g. "2.15". */
  protocol?: string;
  relocatable?: boolean;
  /** 64-bit values are hex strings, e.g. "0x1000000". */
  prefAddress?: string;
  kernelAlignment?: string;
  initSize?: string;
  entry?: string;
  cmdlineSize?: number;
  xloadflags?: string[];
  /** cpio members across every archive of an initramfs. */
  members?: number;
  initramfs?: InitramfsSummary;
  /** A UKI's sections, metadata and its .linux kernel described in turn. */
  uki?: UkiSummary;
  /** A zboot image's header and the kernel it decompresses to. */
  zboot?: ZbootSummary;
  pe: boolean;
  signed: boolean;
  /** The Authenticode signature's facts (trust is `kexec-ts verify`'s business). */
  signature?: SignatureSummary;
  /** "yes|no|cannot tell, because ...": filled by the inspect command, which can read the machine. */
  kernelAccepts?: string;
  /** File size in bytes. */
  size: number;
  decompressedSize?: number;
  /** The syscalls kexec-ts can use to load this image (empty: describe only). */
  loadPaths: string[];
  notes: string[];
  warnings: string[];
}

export interface SignatureSummary {
  /** valid | unsigned | bad-digest | bad-signature | malformed, before any trust decision. */
  state: string;
  signer?: string;
  issuer?: string;
  digestAlgorithm?: string;
  imageDigest?: string;
  signedDigest?: string;
  digestMatches?: boolean;
  signatureValid?: boolean;
  /** WIN_CERTIFICATE entries; the kernel checks the first only. */
  signatures: number;
  reason: string;
}

/** The signature of a PE image, checked for integrity only (no trusted certificates). */
export function summarizeSignature(bytes: Uint8Array): SignatureSummary | undefined {
  const r = verifyImageSignature(bytes, []);
  if (r.verdict === 'not-pe') return undefined;
  const first = r.signatures[0];
  const out: SignatureSummary = {
    state: r.verdict === 'untrusted' ? 'valid' : r.verdict,
    signatures: r.signatures.length,
    reason: r.verdict === 'untrusted' ? 'intact and signed; run `kexec-ts verify` for trust' : r.reason,
  };
  if (first?.signer) out.signer = first.signer.subject;
  if (first) out.issuer = first.signerIssuer;
  if (r.digestAlgorithm) out.digestAlgorithm = r.digestAlgorithm;
  if (r.imageDigest) out.imageDigest = r.imageDigest;
  if (r.signedDigest) out.signedDigest = r.signedDigest;
  if (r.digestMatches !== undefined) out.digestMatches = r.digestMatches;
  if (r.signatureValid !== undefined) out.signatureValid = r.signatureValid;
  return out;
}

export interface InspectOptions {
  maxOutput?: number;
  /** List every initramfs member (`inspect --members`), not only the summary. */
  members?: boolean;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** bzImage fields straight from the setup header (boot.rst "Details of Header Fields"). */
function describeBzImage(info: ImageInfo, bz: BzImage, is64: boolean): void {
  const h = bz.header;
  info.arch = is64 ? 'x86_64' : 'x86';
  if (bz.kernelVersion !== undefined) info.kernelVersion = bz.kernelVersion;
  if (bz.payloadCompression !== undefined) info.payloadCompression = bz.payloadCompression;
  info.protocol = formatProtocol(bz.protocol);
  if (h.relocatable_kernel !== undefined) info.relocatable = h.relocatable_kernel !== 0;
  if (h.pref_address !== undefined) info.prefAddress = hex(h.pref_address);
  if (h.kernel_alignment !== undefined) info.kernelAlignment = hex(h.kernel_alignment);
  if (h.init_size !== undefined) info.initSize = hex(h.init_size);
  // cmdline_size is 2.06+; "With protocol version 2.05 and earlier, the maximum size was 255".
  info.cmdlineSize = h.cmdline_size ?? 255;
  if (h.xloadflags !== undefined) info.xloadflags = flagNames(h.xloadflags, XLOADFLAG_NAMES);
  info.pe = bz.pe !== undefined;
  info.signed = bz.pe?.signed ?? false;
  // Only a bzImage64 passes the kernel's bzImage64_probe, so only it can use kexec_file_load.
  info.loadPaths = is64 ? ['kexec_file_load', 'kexec_load'] : ['kexec_load'];
  info.warnings.push(...bz.warnings);
  if (is64 && !info.signed) {
    info.notes.push(
      'unsigned: kexec_file_load rejects it when the running kernel enforces signatures (lockdown, KEXEC_SIG_FORCE)',
    );
  }
  if (!is64)
    info.notes.push('not a 64-bit bzImage (protocol < 2.12 or xloadflags lack 64-bit bits): kexec_load only');
}

/** "Linux version ..." inside an uncompressed kernel (vmlinux, arm64 Image), first 64 MiB only. */
function findLinuxVersion(bytes: Uint8Array): string | undefined {
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 64 << 20));
  const at = hay.indexOf('Linux version ');
  if (at < 0) return undefined;
  const end = hay.indexOf(0, at);
  const s = hay
    .subarray(at + 14, end < 0 ? Math.min(at + 270, hay.length) : Math.min(end, at + 270))
    .toString('latin1');
  return s.replace(/\n.*$/s, '').trim() || undefined;
}

/** An ELF kernel (vmlinux): kexec-tools' elf-x86_64 loader copies its PT_LOAD segments. */
function describeElf(info: ImageInfo, elf: ElfImage, loadable: boolean): void {
  info.arch = elf.arch ?? `e_machine ${elf.header.e_machine}`;
  info.entry = hex(elf.header.e_entry);
  info.notes.push(
    `ELF${elf.header.ei_class === 2 ? 64 : 32} ${elf.header.endian.toUpperCase()}, ${elf.phdrs.filter((p) => p.p_type === PT_LOAD).length} PT_LOAD of ${elf.phdrs.length} segments`,
  );
  info.loadPaths = loadable ? ['kexec_load'] : [];
}

/** Fill `info` from whichever probe matched; describe-only formats get a note saying so. */
function describeMatch(info: ImageInfo, m: ProbeMatch, bytes: Uint8Array, options: InspectOptions): void {
  info.type = m.name;
  const maxOutput = options.maxOutput ?? DEFAULT_MAX_OUTPUT;
  const inner = (b: Uint8Array, name: string | undefined): InnerInfo =>
    inspectImage(b, name, options) as unknown as InnerInfo;
  switch (m.name) {
    case 'uki': {
      const u = describeUki(m.header, inner, maxOutput, options.members ?? false, info.warnings);
      info.uki = u;
      info.arch = u.kernel.arch ?? m.header.pe.arch ?? `machine ${hex(m.header.pe.machine)}`;
      const version = u.kernel.kernelVersion ?? u.uname;
      if (version !== undefined) info.kernelVersion = version;
      info.pe = true;
      info.signed = m.header.pe.signed;
      info.warnings.push(...m.header.pe.warnings);
      info.loadPaths = u.kernel.loadPaths;
      if (u.kernel.loadPaths.includes('kexec_file_load'))
        info.notes.push(
          'kexec_file_load does not take a UKI: kexec-ts passes its .linux, .initrd and .cmdline in memfds (as systemd does)',
        );
      return;
    }
    case 'zboot': {
      const z = describeZboot(bytes, m.header, inner, maxOutput, info.warnings);
      info.zboot = z;
      info.arch = z.kernel?.arch ?? m.header.arch ?? 'unknown';
      if (z.kernel?.kernelVersion !== undefined) info.kernelVersion = z.kernel.kernelVersion;
      info.payloadCompression = m.header.compType;
      info.pe = m.header.pe !== undefined;
      info.signed = m.header.pe?.signed ?? false;
      info.notes.push(
        `EFI zboot: a ${m.header.compType}-compressed kernel at ${hex(m.header.payloadOffset)}; kexec-ts unwraps it into a memfd for kexec_file_load on a ${info.arch} host`,
      );
      return;
    }
    case 'riscv64-Image':
      info.arch = 'riscv64';
      info.notes.push(...riscvNotes(m.header));
      break;
    case 'bzImage64':
    case 'bzImage':
      describeBzImage(info, m.header, m.name === 'bzImage64');
      return;
    case 'elf-x86_64':
      describeElf(info, m.header, true);
      break;
    case 'arm64-Image':
      info.arch = 'arm64';
      info.notes.push(
        `text_offset ${hex(m.header.textOffset)}, image_size ${hex(m.header.imageSize)}, ${m.header.pageSize} pages`,
      );
      info.notes.push('arm64 kernel: kexec-ts loads x86_64 kernels only');
      break;
    case 'pe':
      info.arch = m.header.arch ?? `machine ${hex(m.header.machine)}`;
      info.notes.push('a PE image that is not a bzImage or arm64 Image (an EFI application, zboot or UKI)');
      info.warnings.push(...m.header.warnings);
      break;
    case 'multiboot':
    case 'multiboot2':
      info.notes.push(...multibootNotes(m.name, m.header));
      break;
  }
  const pe = m.name === 'pe' ? m.header : parsePe(bytes);
  info.pe = pe !== undefined;
  info.signed = pe?.signed ?? false;
  const version = findLinuxVersion(bytes);
  if (version !== undefined) info.kernelVersion = version;
}

/** Describe bytes whose outer compression (if any) has been undone. */
function describe(info: ImageInfo, bytes: Uint8Array, options: InspectOptions): void {
  // An initramfs is not a kernel, so it is recognised before the kernel probes run.
  if (isCpio(bytes)) {
    info.type = 'initramfs';
    const s = describeInitramfs(
      bytes,
      options.maxOutput ?? DEFAULT_MAX_OUTPUT,
      options.members ?? false,
      info.warnings,
    );
    if (s) {
      info.members = s.members;
      info.initramfs = s;
      if (s.segments.length > 1) info.notes.push(s.summary);
      if (s.microcode.length > 0)
        info.notes.push(`early microcode (${s.microcode.join(', ')}) in a leading uncompressed archive`);
    }
    return;
  }
  let report: ReturnType<typeof probeAll>;
  try {
    report = probeAll(bytes);
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    info.warnings.push(e.message);
    return;
  }
  const { match, reasons } = report;
  if (match) {
    try {
      describeMatch(info, match, bytes, options);
    } catch (e) {
      if (!(e instanceof KexecError)) throw e;
      info.warnings.push(e.message);
    }
    return;
  }
  // An ELF for another machine (or a core file) is still worth naming.
  if (isElf(bytes)) {
    info.type = 'elf';
    try {
      const h = decodeElfHeader(bytes);
      info.arch = ELF_MACHINES[h.e_machine] ?? `e_machine ${h.e_machine}`;
    } catch (e) {
      if (!(e instanceof KexecError)) throw e;
    }
  }
  info.notes.push(...reasons);
}

/** Describe a kernel image, compressed kernel or initramfs. Throws only on a bug. */
export function inspectImage(bytes: Uint8Array, name?: string, options: InspectOptions = {}): ImageInfo {
  const info: ImageInfo = {
    type: 'unknown',
    pe: false,
    signed: false,
    size: bytes.byteLength,
    loadPaths: [],
    notes: [],
    warnings: [],
  };
  if (name !== undefined) info.name = name;
  const kind = detectCompression(bytes);
  if (kind === undefined) {
    describe(info, bytes, options);
    if (info.pe) {
      const sig = summarizeSignature(bytes);
      if (sig) info.signature = sig;
    }
    return info;
  }
  info.compression = kind;
  // lz4, bzip2 and lzo whole files: kexec-tools has no decoder, so neither do we.
  if (!canDecompress(kind)) {
    info.type = 'compressed';
    info.warnings.push(
      `${kind} whole-file compression: kexec-tools cannot undo it, so no loader can use this file`,
    );
    return info;
  }
  let inner: Uint8Array;
  try {
    inner = decompress(bytes, options.maxOutput ?? DEFAULT_MAX_OUTPUT, kind);
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    info.type = 'compressed';
    info.warnings.push(e.message);
    return info;
  }
  info.decompressedSize = inner.byteLength;
  describe(info, inner, options);
  return info;
}

export { formatImageInfo } from './inspect-format.js';
