// Physical address ranges for the kexec_load path, all of src/range.ts's one half-open AddressRange:
// `start` is the first byte, `end` is one past the last byte (so size = end - start). /sys/firmware/memmap
// and /proc/iomem print inclusive ends (struct resource, kernel/resource.c); their parsers convert them
// with fromInclusive().
import type { AddressRange } from '../../range.js';

export { type AddressRange, fromInclusive, range, rangeSize } from '../../range.js';

/** The memory types the x86 e820 map distinguishes (arch/x86/include/asm/e820/types.h). */
export type MemoryType = 'ram' | 'reserved' | 'acpi' | 'nvs' | 'unusable' | 'pmem' | 'pram' | 'soft-reserved';

export interface MemoryRange extends AddressRange {
  type: MemoryType;
}

export const PAGE_SIZE = 0x1000n;
export const KiB = 1024n;
export const MiB = 1024n * KiB;
export const GiB = 1024n * MiB;
/** Exclusive end of the 64-bit physical address space. */
export const ADDRESS_SPACE_END = 1n << 64n;

export const hex = (n: bigint | number): string => `0x${n.toString(16)}`;
/** `0x100000-0x7ffdffff` with the inclusive end, as /proc/iomem and kexec-tools print ranges. */
export const formatRange = (r: AddressRange): string => `${hex(r.start)}-${hex(r.end - 1n)}`;

export const alignUp = (n: bigint, a: bigint): bigint => ((n + a - 1n) / a) * a;
export const alignDown = (n: bigint, a: bigint): bigint => (n / a) * a;
export const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const bigMin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * The type of a firmware memmap or /proc/iomem name, or undefined for names that are not memory
 * (PCI windows, device BARs). Names from e820_type_to_string() in arch/x86/kernel/e820.c; matched
 * case-insensitively because /proc/iomem said "reserved" before Linux 4.18 and "Reserved" since.
 */
export function memoryTypeOf(name: string): MemoryType | undefined {
  switch (name.trim().toLowerCase()) {
    case 'system ram':
      return 'ram';
    case 'reserved':
      return 'reserved';
    case 'acpi tables':
      return 'acpi';
    case 'acpi non-volatile storage':
      return 'nvs';
    case 'unusable memory':
      return 'unusable';
    case 'persistent memory':
      return 'pmem';
    case 'persistent memory (legacy)':
      return 'pram';
    case 'soft reserved':
      return 'soft-reserved';
    default:
      return undefined;
  }
}

/** Sort by start and merge overlapping or touching ranges of the same type. */
export function mergeRanges(ranges: readonly MemoryRange[]): MemoryRange[] {
  const sorted = ranges
    .filter((r) => r.end > r.start)
    .map((r) => ({ ...r }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: MemoryRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.type === r.type && r.start <= last.end) last.end = bigMax(last.end, r.end);
    else out.push(r);
  }
  return out;
}

/** `ranges` minus every range in `holes`; the result is sorted and keeps each range's other fields. */
export function subtractRanges<R extends AddressRange>(
  ranges: readonly R[],
  holes: readonly AddressRange[],
): R[] {
  let pieces = ranges.map((r) => ({ ...r }));
  for (const h of holes) {
    const next: R[] = [];
    for (const p of pieces) {
      if (h.end <= p.start || h.start >= p.end) {
        next.push(p);
        continue;
      }
      if (h.start > p.start) next.push({ ...p, end: h.start });
      if (h.end < p.end) next.push({ ...p, start: h.end });
    }
    pieces = next;
  }
  return pieces.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** Clip every range to [lo, hi); drops ranges that fall outside. */
export function clipRanges<R extends AddressRange>(ranges: readonly R[], lo: bigint, hi: bigint): R[] {
  const out: R[] = [];
  for (const r of ranges) {
    const start = bigMax(r.start, lo);
    const end = bigMin(r.end, hi);
    if (end > start) out.push({ ...r, start, end });
  }
  return out;
}

export const overlaps = (a: AddressRange, b: AddressRange): boolean => a.start < b.end && b.start < a.end;
