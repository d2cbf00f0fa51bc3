// The kernel's checks on a kexec_load segment list (kernel/kexec_core.c sanity_check_segment_list()),
// run before the syscall so a bad plan is a LayoutError with the segment named, not a bare EINVAL.
import { LayoutError } from '../../errors.js';
import type { KexecSegment } from '../../sys/types.js';
import { type AddressRange, formatRange, hex, PAGE_SIZE } from './ranges.js';

/** include/linux/kexec.h KEXEC_SEGMENT_MAX. */
export const KEXEC_SEGMENT_MAX = 16;

const describe = (s: KexecSegment, i: number): string =>
  `segment ${i} (${formatRange({ start: s.mem, end: s.mem + s.memsz })}, bufsz ${hex(s.buf.length)})`;

/**
 * Throws LayoutError on what the kernel would refuse: more than 16 segments (EINVAL), mem or memsz not
 * page aligned (EADDRNOTAVAIL), bufsz > memsz (EINVAL), overlapping segments (EINVAL), and with `within`
 * (the crash kernel region for KEXEC_ON_CRASH) a segment outside it (EADDRNOTAVAIL).
 */
export function validateSegments(segments: readonly KexecSegment[], within?: readonly AddressRange[]): void {
  if (segments.length > KEXEC_SEGMENT_MAX) {
    throw new LayoutError(`${segments.length} segments; kexec_load takes at most ${KEXEC_SEGMENT_MAX}`);
  }
  segments.forEach((s, i) => {
    if (s.mem % PAGE_SIZE !== 0n || s.memsz % PAGE_SIZE !== 0n) {
      throw new LayoutError(`${describe(s, i)}: mem and memsz must be page aligned`);
    }
    if (BigInt(s.buf.length) > s.memsz) throw new LayoutError(`${describe(s, i)}: bufsz exceeds memsz`);
    if (s.mem + s.memsz < s.mem) throw new LayoutError(`${describe(s, i)}: wraps the address space`);
    if (within && !within.some((r) => s.mem >= r.start && s.mem + s.memsz <= r.end)) {
      throw new LayoutError(
        `${describe(s, i)}: outside the crash kernel region ${within.map(formatRange).join(', ')}`,
      );
    }
    for (let j = 0; j < i; j++) {
      const o = segments[j]!;
      if (s.mem < o.mem + o.memsz && o.mem < s.mem + s.memsz) {
        throw new LayoutError(`${describe(s, i)} overlaps ${describe(o, j)}`);
      }
    }
  });
}
