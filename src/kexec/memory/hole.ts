// Finding room for kexec_load segments, like kexec-tools' locate_hole() (kexec/kexec.c):
// candidates are RAM ranges minus reserved ranges, the crash kernel region (normal loads), and every
// segment already placed, clipped to --mem-min/--mem-max and the request's own window.
import { LayoutError } from '../../errors.js';
import type { KexecSegment } from '../../sys/types.js';
import {
  ADDRESS_SPACE_END,
  type AddressRange,
  alignDown,
  alignUp,
  bigMax,
  bigMin,
  clipRanges,
  formatRange,
  hex,
  type MemoryRange,
  PAGE_SIZE,
  range,
  subtractRanges,
} from './ranges.js';

export interface HoleRequest {
  /** Bytes needed; rounded up to a page. */
  size: bigint;
  /** Power of two; at least PAGE_SIZE is used. */
  align?: bigint;
  /** Lowest acceptable start address (inclusive). Default 0. */
  min?: bigint;
  /** The hole must end at or below this address (exclusive). Default: end of the address space. */
  max?: bigint;
  /** Highest fit instead of the lowest. */
  topDown?: boolean;
}

export interface PlacementLimits {
  /** --mem-min: lowest address any segment may use (inclusive). */
  memMin?: bigint;
  /** --mem-max: highest address any segment may use (inclusive, as kexec-tools' option). */
  memMax?: bigint;
  /** Ranges no segment may touch besides non-RAM ones: the crash kernel region for normal loads. */
  exclude?: readonly AddressRange[];
}

/** RAM not reserved, not excluded, not taken by `placed`, inside [memMin, memMax]. Sorted. */
export function freeRanges(
  map: readonly MemoryRange[],
  limits: PlacementLimits = {},
  placed: readonly AddressRange[] = [],
): AddressRange[] {
  const ram = map.filter((r) => r.type === 'ram').map(({ start, end }) => range(start, end));
  const notRam = map.filter((r) => r.type !== 'ram');
  const free = subtractRanges(ram, [...notRam, ...(limits.exclude ?? []), ...placed]);
  // --mem-max is the last usable byte, inclusive as kexec-tools' mem_max (kexec/kexec.c locate_hole)
  const hi = limits.memMax === undefined ? ADDRESS_SPACE_END : limits.memMax + 1n;
  return clipRanges(free, limits.memMin ?? 0n, hi);
}

/** Start address of a hole satisfying `req` within `free`; throws LayoutError naming what was free. */
export function locateHole(free: readonly AddressRange[], req: HoleRequest): bigint {
  const align = bigMax(req.align ?? PAGE_SIZE, PAGE_SIZE);
  if ((align & (align - 1n)) !== 0n) throw new LayoutError(`alignment ${hex(align)} is not a power of two`);
  const size = alignUp(req.size, PAGE_SIZE);
  const lo = req.min ?? 0n;
  const hi = req.max ?? ADDRESS_SPACE_END;
  const window = clipRanges(free, lo, hi);
  let found: bigint | undefined;
  for (const r of window) {
    if (req.topDown) {
      if (r.end - r.start < size) continue;
      const start = alignDown(r.end - size, align);
      if (start >= r.start && (found === undefined || start > found)) found = start;
    } else {
      const start = alignUp(r.start, align);
      if (start + size <= r.end && (found === undefined || start < found)) found = start;
    }
  }
  if (found !== undefined) return found;
  const listed = window.length > 0 ? window.map(formatRange).join(', ') : 'none';
  throw new LayoutError(
    `no free memory for ${hex(size)} bytes (alignment ${hex(align)}) between ${hex(lo)} and ${hex(bigMin(hi, ADDRESS_SPACE_END) - 1n)}; free ranges there: ${listed}`,
    { hint: 'widen --mem-min/--mem-max, or use a smaller kernel or initrd' },
  );
}

/** Segments placed so far, with the memory map and limits they were placed under. */
export class SegmentPlanner {
  readonly segments: KexecSegment[] = [];

  constructor(
    readonly map: readonly MemoryRange[],
    readonly limits: PlacementLimits = {},
  ) {}

  free(): AddressRange[] {
    return freeRanges(
      this.map,
      this.limits,
      this.segments.map((s) => range(s.mem, s.mem + s.memsz)),
    );
  }

  locate(req: HoleRequest): bigint {
    return locateHole(this.free(), req);
  }

  /** Place `buf` with `memsz` bytes reserved (rounded up to a page); returns its address. */
  add(buf: Uint8Array, memsz: bigint, req: Omit<HoleRequest, 'size'>): bigint {
    const size = alignUp(bigMax(memsz, BigInt(buf.length)), PAGE_SIZE);
    const mem = this.locate({ ...req, size });
    this.segments.push({ buf, mem, memsz: size });
    return mem;
  }

  /** Place `buf` at exactly `mem` (a non-relocatable kernel); throws LayoutError when it is not free. */
  addAt(buf: Uint8Array, memsz: bigint, mem: bigint): bigint {
    const size = alignUp(bigMax(memsz, BigInt(buf.length)), PAGE_SIZE);
    return this.add(buf, size, { min: mem, max: mem + size });
  }
}
