// /proc/iomem, parsed once for every reader (the kexec_load memory map, the kdump load's crash memory,
// the crash kernel reservation of doctor, -p and kdump status). kexec-tools reads the "Crash kernel"
// lines to decide whether -p can work (kexec/kexec.c is_crashkernel_mem_reserved()).
//
// kernel/resource.c r_show() prints each struct resource as "%0*llx-%0*llx : %s" indented two spaces per
// level, with the resource's inclusive end (include/linux/ioport.h: resource_size() = end - start + 1),
// and start = end = 0 for readers without CAP_SYS_ADMIN (iomem_is_exclusive aside). Lines become
// half-open ranges here (src/range.ts fromInclusive); the zeroed ones are marked `hidden`.
import { type AddressRange, fromInclusive } from '../range.js';

export interface IomemResource extends AddressRange {
  name: string;
  /** Nesting depth (two spaces per level in /proc/iomem). */
  depth: number;
  /** Printed as 0-0: the kernel hides addresses from readers without CAP_SYS_ADMIN. */
  hidden: boolean;
}

export function parseIomem(text: string): IomemResource[] {
  const out: IomemResource[] = [];
  for (const line of text.split('\n')) {
    const m = /^( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$/.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[2]}`);
    const last = BigInt(`0x${m[3]}`);
    if (last < start) continue; // not a resource r_show() can print
    const hidden = start === 0n && last === 0n;
    out.push({ ...fromInclusive(start, last), name: m[4]!, depth: m[1]!.length / 2, hidden });
  }
  return out;
}

export function crashKernelRanges(iomem: readonly IomemResource[]): IomemResource[] {
  return iomem.filter((r) => r.name === 'Crash kernel');
}
