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

export type { Probe } from './probe-types.js';

/** Every possible match, discriminated by loader name (the `--type` spelling of kexec-tools). */
export type ProbeMatch =
  | { name: 'bzImage64'; loadable: true; header: BzImage }
  | { name: 'bzImage'; loadable: true; header: BzImage }
  | { name: 'elf-x86_64'; loadable: true; header: ElfImage }
  | { name: 'arm64-Image'; loadable: false; header: Arm64Image }
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

/** Probe order: see docs/formats.md ("Probe order"). */
export const PROBES: readonly ImageProbe[] = [
  { name: 'bzImage64', loadable: true, probe: probeBzImage64 },
  { name: 'bzImage', loadable: true, probe: probeBzImage },
  { name: 'elf-x86_64', loadable: true, probe: probeElfX86_64 },
  { name: 'arm64-Image', loadable: false, probe: probeArm64Image },
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

export interface PreparedKernel {
  /** Decompressed bytes, or the original bytes when the file was not compressed as a whole. */
  bytes: Uint8Array;
  /** Whole-file compression that was undone, e.g. 'gzip'; undefined when none. */
  compression: string | undefined;
  match: ProbeMatch;
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
): PreparedKernel {
  const kind = detectCompression(bytes);
  let failure: string | undefined;
  if (canDecompress(kind)) {
    try {
      const out = decompress(bytes, maxOutput, kind);
      return { bytes: out, compression: kind, match: probeImage(out, name) };
    } catch (e) {
      if (e instanceof LimitError || !(e instanceof FormatError)) throw e;
      if (e.format === 'image') throw e; // decompressed fine, but no probe matched
      failure = `${kind} decompression: ${e.message}`;
    }
  }
  const { match, reasons } = probeAll(bytes);
  if (match) return { bytes, compression: undefined, match };
  const hint = [...(failure ? [failure] : []), ...reasons].join('; ');
  throw new FormatError(`Cannot determine the file type of ${name}`, 'image', undefined, { hint });
}
