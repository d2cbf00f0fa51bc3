// The running kernel's crash notes: one per-CPU buffer the kernel fills with NT_PRSTATUS at panic time,
// and the VMCOREINFO note. Only their physical addresses and sizes are read here; the capture kernel
// reads the notes themselves through the PT_NOTE headers (fs/proc/vmcore.c).
import type { Sys } from '../../sys/types.js';

export const CPU_DIR = '/sys/devices/system/cpu';
export const VMCOREINFO_FILE = '/sys/kernel/vmcoreinfo';
/** kexec-tools' size when crash_notes_size is missing (kexec/crashdump.h MAX_NOTE_BYTES; older kernels). */
export const DEFAULT_NOTE_BYTES = 1024n;

export interface NoteRange {
  /** Physical address. */
  addr: bigint;
  size: bigint;
}

export interface CpuNote extends NoteRange {
  cpu: number;
}

/**
 * drivers/base/cpu.c: cpuN/crash_notes prints the buffer's physical address ("%llx"), crash_notes_size its
 * size ("%zu"). CPUs are those kexec-tools counts (sysconf(_SC_NPROCESSORS_CONF), i.e. every cpuN
 * directory), in number order; a CPU without a readable crash_notes is skipped, as kexec-tools does.
 */
export function readCpuNotes(sys: Pick<Sys, 'listDir' | 'readText'>): CpuNote[] {
  const cpus = (sys.listDir(CPU_DIR) ?? [])
    .map((n) => /^cpu(\d+)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const out: CpuNote[] = [];
  for (const cpu of cpus) {
    const addr = /^\s*(?:0x)?([0-9a-fA-F]+)\s*$/.exec(
      sys.readText(`${CPU_DIR}/cpu${cpu}/crash_notes`) ?? '',
    )?.[1];
    if (addr === undefined) continue;
    const size = /^\s*(\d+)\s*$/.exec(sys.readText(`${CPU_DIR}/cpu${cpu}/crash_notes_size`) ?? '')?.[1];
    out.push({
      cpu,
      addr: BigInt(`0x${addr}`),
      size: size === undefined ? DEFAULT_NOTE_BYTES : BigInt(size),
    });
  }
  return out;
}

/**
 * kernel/ksysfs.c vmcoreinfo_show(): "%pa %x\n", the note's physical address ("0x" and 16 digits) and its
 * size, both hex; read like kexec-tools' sscanf("%llx %llx"), which takes the 0x prefix or none.
 */
export function readVmcoreinfoNote(sys: Pick<Sys, 'readText'>): NoteRange | undefined {
  const m = /^\s*(?:0x)?([0-9a-fA-F]+)\s+(?:0x)?([0-9a-fA-F]+)\s*$/.exec(sys.readText(VMCOREINFO_FILE) ?? '');
  if (!m) return undefined;
  const size = BigInt(`0x${m[2]}`);
  return size === 0n ? undefined : { addr: BigInt(`0x${m[1]}`), size };
}
