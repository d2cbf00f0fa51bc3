// Physical (and EFI virtual) address ranges, one convention for every layer: half-open [start, end), so
// size = end - start and an empty range has end === start. The type is branded: a range is made only by
// range() or by fromInclusive(), where a kernel interface's inclusive end is converted, so an inclusive
// pair cannot pass for one by accident.
//
// The kernel's own convention is the other one: struct resource (include/linux/ioport.h) has an
// inclusive `end`, resource_size() is end - start + 1, and kernel/resource.c r_show() prints
// "start-end" with that inclusive end in /proc/iomem; /sys/firmware/memmap/N/end
// (drivers/firmware/memmap.c end_show) prints the inclusive end too. Those are converted where they
// are parsed (sys/iomem.ts, kexec/memory/memmap.ts), and printed back with formatRange's inclusive end.

declare const HALF_OPEN: unique symbol;

export interface AddressRange {
  start: bigint;
  /** Exclusive: one past the last byte. */
  end: bigint;
  readonly [HALF_OPEN]: true;
}

/** [start, end). */
export function range(start: bigint, end: bigint): AddressRange {
  return { start, end } as AddressRange;
}

/** A range from a kernel interface's inclusive `last` byte (struct resource's end, kernel/resource.c). */
export function fromInclusive(start: bigint, last: bigint): AddressRange {
  return range(start, last + 1n);
}

export const rangeSize = (r: AddressRange): bigint => r.end - r.start;
