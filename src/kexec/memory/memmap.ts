// The machine's physical memory map, as kexec-tools' get_memory_ranges() reads it
// (kexec/arch/i386/kexec-x86-common.c, with kexec/firmware_memmap.c): /sys/firmware/memmap/N/{start,end,type}
// (the firmware's map, before the kernel
// trimmed it), else the top-level lines of /proc/iomem. Crash kernel reservations come from /proc/iomem.

import { crashKernelRanges, parseIomem } from '../../sys/iomem.js';
import type { Sys } from '../../sys/types.js';
import {
  type AddressRange,
  fromInclusive,
  type MemoryRange,
  memoryTypeOf,
  mergeRanges,
  range,
} from './ranges.js';

export const FIRMWARE_MEMMAP_DIR = '/sys/firmware/memmap';
export const PROC_IOMEM = '/proc/iomem';
/** kexec-tools drops RAM below 0x400: the real-mode interrupt vector table. */
export const IVT_END = 0x400n;

export interface MemoryMap {
  /** Sorted, merged per type, half-open. */
  ranges: MemoryRange[];
  source: 'firmware-memmap' | 'iomem';
  /** "Crash kernel" reservations (half-open), empty when none or unreadable. */
  crash: AddressRange[];
}

function parseHex(text: string | undefined): bigint | undefined {
  const t = text?.trim();
  if (!t || !/^(0x)?[0-9a-f]+$/i.test(t)) return undefined;
  return BigInt(t.startsWith('0x') || t.startsWith('0X') ? t : `0x${t}`);
}

/**
 * /sys/firmware/memmap/N/{start,end,type} (drivers/firmware/memmap.c: start/end are "0x%llx", end
 * inclusive; type is the e820 name). Undefined when the directory is missing or empty; entries with an
 * unreadable file or an unknown type are skipped.
 */
export function parseFirmwareMemmap(sys: Pick<Sys, 'listDir' | 'readText'>): MemoryRange[] | undefined {
  const names = sys.listDir(FIRMWARE_MEMMAP_DIR);
  if (!names || names.length === 0) return undefined;
  const out: MemoryRange[] = [];
  for (const name of names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
    const dir = `${FIRMWARE_MEMMAP_DIR}/${name}`;
    const start = parseHex(sys.readText(`${dir}/start`));
    const end = parseHex(sys.readText(`${dir}/end`));
    const type = memoryTypeOf(sys.readText(`${dir}/type`) ?? '');
    if (start === undefined || end === undefined || type === undefined || end < start) continue;
    // drivers/firmware/memmap.c end_show prints the entry's inclusive end (start + size - 1)
    out.push({ ...fromInclusive(start, end), type });
  }
  return out.length > 0 ? out : undefined;
}

/** Memory ranges from /proc/iomem: top-level lines whose names are memory types (ranges.ts memoryTypeOf). */
export function memmapFromIomem(text: string): MemoryRange[] {
  const out: MemoryRange[] = [];
  for (const r of parseIomem(text)) {
    if (r.depth !== 0) continue;
    const type = memoryTypeOf(r.name);
    if (type !== undefined) out.push({ ...range(r.start, r.end), type });
  }
  return out;
}

/** The highest-first list of "Crash kernel" ranges in /proc/iomem, half-open. */
export function crashRangesFromIomem(text: string): AddressRange[] {
  return crashKernelRanges(parseIomem(text))
    .filter((r) => !r.hidden) // non-root readers see 0-0
    .map((r) => range(r.start, r.end))
    .sort((a, b) => (a.start > b.start ? -1 : 1));
}

/** Merge per type and drop RAM below IVT_END. */
export function normalizeMemmap(ranges: readonly MemoryRange[]): MemoryRange[] {
  return mergeRanges(ranges)
    .map((r) => (r.type === 'ram' && r.start < IVT_END ? { ...r, start: IVT_END } : r))
    .filter((r) => r.end > r.start);
}

/**
 * The memory map for placing kexec_load segments. Throws nothing: a machine with neither source gives
 * an empty map, and placement then fails with a LayoutError naming the (empty) free ranges.
 */
export function readMemoryMap(sys: Pick<Sys, 'listDir' | 'readText'>): MemoryMap {
  const iomem = sys.readText(PROC_IOMEM) ?? '';
  const firmware = parseFirmwareMemmap(sys);
  return {
    ranges: normalizeMemmap(firmware ?? memmapFromIomem(iomem)),
    source: firmware ? 'firmware-memmap' : 'iomem',
    crash: crashRangesFromIomem(iomem),
  };
}
