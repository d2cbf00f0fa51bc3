// The probe registry: an ordered list of recognisers, like the kernel's kexec_file_loaders[] and
// kexec-tools' file_type[]. The first match wins; when none matches, the error lists every reason.
// Loadable formats come first; describe-only recognisers follow so that a bzImage (which is also a
// PE with an "MZ" boot sector) is never reported as a mere PE. See docs/formats.md for the order.
import { FormatError, KexecError, LimitError } from '../errors.js';
import { type Arm64Image, probeArm64Image } from './arm64/image.js';
import type { BzImage } from './bzimage/parse.js';
import { probeBzImage, probeBzImage64 } from './bzimage/probe.js';
import { DEFAULT_MAX_OUTPUT, decompress } from './compress/decompress.js';
import { canDecompress, detectCompression } from './compress/detect.js';
import { type ElfImage, probeElfX86_64 } from './elf/probe.js';
import { type MultibootInfo, probeMultiboot, probeMultiboot2 } from './multiboot/multiboot.js';
import { type PeInfo, parsePe } from './pe/pe.js';
import type { Probe } from './probe-types.js';
import { probeRiscvImage, type RiscvImage } from './riscv/image.js';
import { parseUki, type Uki } from './uki/uki.js';
import { parseZboot, unwrapZboot, type Zboot } from './zboot/zboot.js';

export type { Probe } from './probe-types.js';

/** Every possible match, discriminated by loader name (the `--type` spelling of kexec-tools). */
export type ProbeMatch =
  | { name: 'bzImage64'; loadable: true; header: BzImage }
  | { name: 'bzImage'; loadable: true; header: BzImage }
  | { name: 'elf-x86_64'; loadable: true; header: ElfImage }
  | { name: 'uki'; loadable: true; header: Uki }
  | { name: 'zboot'; loadable: true; header: Zboot }
  | { name: 'arm64-Image'; loadable: false; header: Arm64Image }
  | { name: 'riscv64-Image'; loadable: false; header: RiscvImage }
  | { name: 'pe'; loadable: false; header: PeInfo }
  | { name: 'multiboot'; loadable: false; header: MultibootInfo }
  | { name: 'multiboot2'; loadable: false; header: MultibootInfo };

export interface ImageProbe<M extends ProbeMatch = ProbeMatch> {
  readonly name: M['name'];
  /** false: recognised so `inspect` can describe it, but kexec-ts has no loader for it. */
  readonly loadable: M['loadable'];
  probe(bytes: Uint8Array): Probe<M['header']>;
}

function probePe(bytes: Uint8Array): Probe<PeInfo> {
  const pe = parsePe(bytes);
  return pe ? { ok: true, header: pe } : { ok: false, reason: 'no "MZ" with a "PE\\0\\0" header' };
}

function probeUki(bytes: Uint8Array): Probe<Uki> {
  const uki = parseUki(bytes);
  return uki ? { ok: true, header: uki } : { ok: false, reason: 'no PE with a ".linux" section' };
}

function probeZboot(bytes: Uint8Array): Probe<Zboot> {
  const z = parseZboot(bytes);
  return z ? { ok: true, header: z } : { ok: false, reason: 'no "MZ" + "zimg" at 4' };
}

/** Probe order: see docs/formats.md ("Probe order"). */
export const PROBES: readonly ImageProbe[] = [
  { name: 'bzImage64', loadable: true, probe: probeBzImage64 },
  { name: 'bzImage', loadable: true, probe: probeBzImage },
  { name: 'elf-x86_64', loadable: true, probe: probeElfX86_64 },
  { name: 'uki', loadable: true, probe: probeUki },
  { name: 'zboot', loadable: true, probe: probeZboot },
  { name: 'arm64-Image', loadable: false, probe: probeArm64Image },
  { name: 'riscv64-Image', loadable: false, probe: probeRiscvImage },
  { name: 'pe', loadable: false, probe: probePe },
  { name: 'multiboot', loadable: false, probe: probeMultiboot },
  { name: 'multiboot2', loadable: false, probe: probeMultiboot2 },
];

export interface ProbeReport {
  match: ProbeMatch | undefined;
  /** `name: reason` for every probe that rejected the bytes before the match. */
  reasons: string[];
}

/** Run the probes in order; never throws for a mismatch. */
export function probeAll(bytes: Uint8Array, probes: readonly ImageProbe[] = PROBES): ProbeReport {
  const reasons: string[] = [];
  for (const p of probes) {
    let r: Probe<unknown>;
    try {
      r = p.probe(bytes);
    } catch (e) {
      if (!(e instanceof KexecError)) throw e; // a bug, not a verdict on the file
      r = { ok: false, reason: e.message };
    }
    if (r.ok)
      return { match: { name: p.name, loadable: p.loadable, header: r.header } as ProbeMatch, reasons };
    reasons.push(`${p.name}: ${r.reason}`);
  }
  return { match: undefined, reasons };
}

/** The first match, or FormatError "Cannot determine the file type" with every reason in the hint. */
export function probeImage(bytes: Uint8Array, name = 'the image'): ProbeMatch {
  const { match, reasons } = probeAll(bytes);
  if (match) return match;
  throw new FormatError(`Cannot determine the file type of ${name}`, 'image', undefined, {
    hint: reasons.join('; '),
  });
}

/** UKI → zboot → Image is the deepest real nesting. */
const MAX_WRAP_DEPTH = 2;

export interface PreparedKernel {
  /** Decompressed bytes, or the original bytes when the file was not compressed as a whole. */
  bytes: Uint8Array;
  /** Whole-file compression that was undone, e.g. 'gzip'; undefined when none. */
  compression: string | undefined;
  match: ProbeMatch;
  /** For a UKI or zboot image: the kernel inside (prepared in turn) and what the UKI carries. */
  wrapped?: WrappedKernel | undefined;
}

export interface WrappedKernel {
  kind: 'uki' | 'zboot';
  kernel: PreparedKernel;
  /** UKI .ucode + .initrd. */
  initrd?: Uint8Array | undefined;
  /** UKI .cmdline. */
  cmdline?: string | undefined;
}

/** Unwrap a UKI (its .linux) or a zboot image (its payload) and prepare what is inside. */
function unwrap(
  bytes: Uint8Array,
  m: ProbeMatch,
  name: string,
  maxOutput: number,
  depth: number,
): WrappedKernel | undefined {
  if ((m.name === 'uki' || m.name === 'zboot') && depth >= MAX_WRAP_DEPTH) {
    throw new FormatError(`${name}: a ${m.name} nested ${depth} deep`, m.name, undefined, {
      hint: 'a UKI holds a kernel, which may be a zboot image; deeper nesting is refused',
    });
  }
  if (m.name === 'uki') {
    return {
      kind: 'uki',
      kernel: prepareKernel(m.header.linux, `${name} (.linux)`, maxOutput, depth + 1),
      initrd: m.header.initrd,
      cmdline: m.header.cmdline,
    };
  }
  if (m.name === 'zboot') {
    const inner = unwrapZboot(bytes, m.header, maxOutput);
    return { kind: 'zboot', kernel: prepareKernel(inner, `${name} (zboot payload)`, maxOutput, depth + 1) };
  }
  return undefined;
}

/**
 * kexec-tools' slurp_decompress_file() then probe: undo whole-file gzip/zstd/xz/lzma, then probe.
 * A corrupt compressed file falls back to the raw bytes (as kexec-tools does); if those do not
 * probe either, the decompression error joins the hint. LimitError always propagates.
 */
export function prepareKernel(
  bytes: Uint8Array,
  name = 'the kernel',
  maxOutput = DEFAULT_MAX_OUTPUT,
  depth = 0,
): PreparedKernel {
  const kind = detectCompression(bytes);
  let failure: string | undefined;
  if (canDecompress(kind)) {
    try {
      const out = decompress(bytes, maxOutput, kind);
      const match = probeImage(out, name);
      return { bytes: out, compression: kind, match, wrapped: unwrap(out, match, name, maxOutput, depth) };
    } catch (e) {
      if (e instanceof LimitError || !(e instanceof FormatError)) throw e;
      if (e.format === 'image') throw e; // decompressed fine, but no probe matched
      failure = `${kind} decompression: ${e.message}`;
    }
  }
  const { match, reasons } = probeAll(bytes);
  if (match)
    return { bytes, compression: undefined, match, wrapped: unwrap(bytes, match, name, maxOutput, depth) };
  const hint = [...(failure ? [failure] : []), ...reasons].join('; ');
  throw new FormatError(`Cannot determine the file type of ${name}`, 'image', undefined, { hint });
}
