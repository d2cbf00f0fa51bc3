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
