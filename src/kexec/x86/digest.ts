// The SHA-256 the purgatory re-checks before entering the new kernel (kexec-tools kexec/kexec.c
// update_purgatory, checked by purgatory/purgatory.c verify_sha256_digest):
// over every segment but the purgatory, in table order, each segment's bytes followed by zeros up to
// memsz (the kernel zero-fills memsz beyond the buffer, so that is what lies in memory).
import { createHash } from 'node:crypto';
import type { PurgatoryRegion } from '../../purgatory/x86_64-header.js';
import type { KexecSegment } from '../../sys/types.js';

const ZEROS = new Uint8Array(1 << 20);

export function segmentRegions(segments: readonly KexecSegment[]): PurgatoryRegion[] {
  return segments.map((s) => ({ start: s.mem, len: s.memsz }));
}

/** SHA-256 over the segments as they will be in memory. */
export function segmentsDigest(segments: readonly KexecSegment[]): Uint8Array {
  const h = createHash('sha256');
  for (const s of segments) {
    h.update(s.buf);
    let pad = Number(s.memsz) - s.buf.length;
    while (pad > 0) {
      const n = Math.min(pad, ZEROS.length);
      h.update(ZEROS.subarray(0, n));
      pad -= n;
    }
  }
  return new Uint8Array(h.digest());
}
