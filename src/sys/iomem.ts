// /proc/iomem: the physical memory map as the running kernel sees it. kexec-tools reads the
// "Crash kernel" lines to decide whether -p can work (kexec/kexec.c is_crashkernel_mem_reserved()).

export interface IomemRange {
  start: bigint;
  /** Inclusive, as printed. */
  end: bigint;
  name: string;
  /** Nesting depth (two spaces per level in /proc/iomem). */
  depth: number;
}

export function parseIomem(text: string): IomemRange[] {
  const out: IomemRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: BigInt(`0x${m[2]}`), end: BigInt(`0x${m[3]}`), name: m[4]!, depth: m[1]!.length / 2 });
  }
  return out;
}

export function crashKernelRanges(iomem: IomemRange[]): IomemRange[] {
  return iomem.filter((r) => r.name === 'Crash kernel');
}

/**
 * Size of the crash reservation. Non-root readers see zeroed addresses in /proc/iomem, so prefer
 * /sys/kernel/kexec_crash_size when it is readable. kexec-tools' --print-ckr-size reports the highest range.
 */
export function crashKernelSize(iomemText: string | undefined, crashSizeText: string | undefined): bigint {
  const fromSys = crashSizeText === undefined ? undefined : BigInt(crashSizeText.trim() || '0');
  const ranges = crashKernelRanges(parseIomem(iomemText ?? ''));
  const highest = ranges.sort((a, b) => (a.start < b.start ? 1 : -1))[0];
  const fromIomem = highest && highest.end > highest.start ? highest.end - highest.start + 1n : 0n;
  if (fromSys !== undefined && fromSys > 0n) return fromSys;
  return fromIomem;
}

export function hasCrashReservation(
  iomemText: string | undefined,
  crashSizeText: string | undefined,
): boolean {
  if (crashKernelRanges(parseIomem(iomemText ?? '')).length > 0) return true;
  return crashKernelSize(iomemText, crashSizeText) > 0n;
}
