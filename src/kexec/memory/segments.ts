// The kernel's checks on a kexec_load segment list (kernel/kexec_core.c sanity_check_segment_list()),
// run before the syscall so a bad plan is a LayoutError with the segment named, not a bare EINVAL.
import { LayoutError } from '../../errors.js';
import type { KexecSegment } from '../../sys/types.js';
import { type AddressRange, formatRange, hex, PAGE_SIZE, range } from './ranges.js';

/** include/linux/kexec.h KEXEC_SEGMENT_MAX. */
export const KEXEC_SEGMENT_MAX = 16;

const describe = (s: KexecSegment, i: number): string =>
  `segment ${i} (${formatRange(range(s.mem, s.mem + s.memsz))}, bufsz ${hex(s.buf.length)})`;

export interface SegmentChecks {
  /** KEXEC_ON_CRASH: every segment must lie inside one of these (the crash kernel region). */
  within?: readonly AddressRange[] | undefined;
  /** Bytes of RAM: the kernel refuses segments totalling more than half of it (totalram_pages() / 2). */
  totalRam?: bigint | undefined;
}

/**
 * Throws LayoutError on what the kernel would refuse: more than 16 segments (EINVAL), mem or memsz not
 * page aligned (EADDRNOTAVAIL), bufsz > memsz (EINVAL), overlapping segments (EINVAL), a segment outside
 * `within` (EADDRNOTAVAIL), more than half of `totalRam` (EINVAL; the kernel's count is a little lower
 * than the firmware map's RAM, so this check can pass where the kernel still refuses).
 */
export function validateSegments(segments: readonly KexecSegment[], checks: SegmentChecks = {}): void {
  const { within, totalRam } = checks;
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
  const total = segments.reduce((n, s) => n + s.memsz, 0n);
  if (totalRam !== undefined && total > totalRam / 2n) {
    throw new LayoutError(
      `segments take ${hex(total)} bytes, more than half of the ${hex(totalRam)} bytes of RAM`,
      {
        hint: 'the kernel refuses kexec images larger than half of memory; use a smaller initrd',
      },
    );
  }
}
