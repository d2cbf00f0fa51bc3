// kdump on the kexec_load path (-c -p, x86_64): everything a crash load adds to the bzImage64 plan.
// Read from the running kernel: /proc/iomem (reservation, RAM, firmware ranges, "Kernel code"),
// per-CPU crash_notes, /sys/kernel/vmcoreinfo, /proc/kcore (+ kallsyms) for the virtual layout. Built:
// the ELF core headers at the lowest page of the crash region (where the kernel's own kexec_file_load
// puts them), `elfcorehdr=<KiB>K` on the command line, and the capture kernel's e820.
// The caller (x86/plan-from-sys.ts) hands the result to planBzImage64Load. docs/kexec-load.md "kdump".
import type { Sys } from '../../sys/types.js';
import { freeRanges, locateHole } from '../memory/hole.js';
import type { MemoryMap } from '../memory/memmap.js';
import { formatRange, hex, KiB, range } from '../memory/ranges.js';
import type { KdumpExtras } from '../x86/bzimage64-load.js';
import { captureE820, crashMemoryFromIomem } from './crash-memory.js';
import { buildElfcorehdr, elfcorehdrPhdrs } from './elfcorehdr.js';
import { readKernelLayout } from './kernel-layout.js';
import { readCpuNotes, readVmcoreinfoNote } from './notes.js';

export interface KdumpPrepared {
  /** Placement map: the crash region as the only RAM. */
  memmap: MemoryMap;
  /** The command line with ` elfcorehdr=<KiB>K` appended. */
  cmdline: string;
  kdump: KdumpExtras;
  elfcorehdr: { mem: bigint; bytes: Uint8Array };
  /** `-d` lines. */
  describe: string[];
}

export interface KdumpRequest {
  cmdline: string;
  /** --mem-min / --mem-max (inclusive), further limiting placement inside the crash region. */
  memMin?: bigint | undefined;
  memMax?: bigint | undefined;
}

/** The kernel parses elfcorehdr= with memparse(): a K suffix is KiB (kernel/crash_dump.c setup_elfcorehdr). */
export const elfcorehdrParam = (mem: bigint): string => `elfcorehdr=${mem / KiB}K`;

export function prepareKdump(sys: Sys, req: KdumpRequest): KdumpPrepared {
  const mem = crashMemoryFromIomem(sys.readText('/proc/iomem') ?? '');
  const layout = readKernelLayout(sys);
  const cpuNotes = readCpuNotes(sys);
  const vmcoreinfo = readVmcoreinfoNote(sys);
  const text =
    mem.kernelCode === undefined
      ? undefined
      : { paddr: mem.kernelCode, vaddr: layout.textVaddr, size: layout.textSize };
  const input = { cpuNotes, vmcoreinfo, text, ram: mem.dump, pageOffset: layout.pageOffset };
  const bytes = buildElfcorehdr(input);
  const region = { ...mem.region, type: 'ram' as const };
  const limits = { memMin: req.memMin, memMax: req.memMax };
  const at = locateHole(freeRanges([region], limits), { size: BigInt(bytes.length) });
  const taken = range(at, at + BigInt(Math.ceil(bytes.length / 4096) * 4096));
  const param = elfcorehdrParam(at);
  const phdrs = elfcorehdrPhdrs(input);
  return {
    memmap: { ranges: [region], source: 'iomem', crash: [] },
    cmdline: req.cmdline === '' ? param : `${req.cmdline} ${param}`,
    kdump: {
      e820: captureE820(mem, [taken]),
      fixed: [{ role: 'elfcorehdr', buf: bytes, mem: at }],
      region: mem.region,
      totalRam: mem.totalRam,
    },
    elfcorehdr: { mem: at, bytes },
    describe: [
      `kdump: crash region ${formatRange(mem.region)}, ${param}`,
      `kdump: ${cpuNotes.length} cpu notes, vmcoreinfo ${vmcoreinfo ? hex(vmcoreinfo.addr) : 'none'}, ${phdrs.length} program headers, ${mem.dump.length} RAM ranges`,
      `kdump: page_offset ${hex(layout.pageOffset)} (${layout.pageOffsetFrom}), text ${hex(layout.textVaddr)} size ${hex(layout.textSize)} (${layout.textFrom})${text ? ` at ${hex(text.paddr)}` : ', no "Kernel code" in /proc/iomem: no text segment'}`,
    ],
  };
}
