// What /proc/iomem says about memory for a kdump load (kexec_load path, -c -p): the crash kernel
// reservation, the RAM to describe in the ELF core headers, the ranges the capture kernel gets in its
// e820, and where the running kernel's image sits. Facts from kexec-tools kexec/arch/i386/crashdump-x86.c
// (get_crash_memory_ranges, load_crashdump_segments) and the kernel's own kexec_file_load path,
// arch/x86/kernel/crash.c (prepare_elf_headers, crash_setup_memmap_entries); docs/kexec-load.md "kdump".
import { StateError } from '../../errors.js';
import { parseIomem } from '../../sys/iomem.js';
import {
  type AddressRange,
  type MemoryRange,
  type MemoryType,
  MiB,
  mergeRanges,
  range,
  subtractRanges,
} from '../memory/ranges.js';

/**
 * The first MiB: kernels since 5.5 keep it reserved when crashkernel= is given (since 5.13 always), so the
 * capture kernel may use its RAM and the dump leaves it out. That replaced the 640 KiB backup region
 * (Lianbo Jiang, "x86/kdump: always reserve the low 1M when the crashkernel option is specified" and
 * "x86/kdump: clean up all the code related to the backup region", Linux 5.5).
 */
export const LOW_RESERVED_END = MiB;

export interface CrashMemory {
  /** Every "Crash kernel" range, ascending (half-open). A crashkernel=X,high boot has a low one too. */
  reservations: AddressRange[];
  /** The highest reservation: the kernel only accepts KEXEC_ON_CRASH segments inside it (crashk_res). */
  region: AddressRange;
  /** System RAM to dump: every "System RAM" line minus the reservations, the first MiB and a GART. */
  dump: AddressRange[];
  /** System RAM below 1 MiB: the capture kernel gets it as RAM. */
  lowRam: AddressRange[];
  /** ACPI tables, ACPI NVS, reserved and persistent memory, merged per type: passed on unchanged. */
  firmware: MemoryRange[];
  /** "Kernel code" start: the physical address of _text. */
  kernelCode: bigint | undefined;
  /** Bytes of System RAM, reservations included (the kernel's half-of-RAM segment check). */
  totalRam: bigint;
}

/** /proc/iomem names that go into the capture kernel's e820 besides RAM (kexec-tools' list). */
const FIRMWARE_TYPES: Readonly<Record<string, MemoryType>> = {
  'ACPI Tables': 'acpi',
  'ACPI Non-volatile Storage': 'nvs',
  reserved: 'reserved',
  Reserved: 'reserved',
  'Persistent Memory': 'pmem',
  'Persistent Memory (legacy)': 'pram',
};

const halfOpen = (r: AddressRange): AddressRange => range(r.start, r.end); // without name and depth
const byStart = (a: AddressRange, b: AddressRange) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);

/**
 * Every line counts at any depth, as both kexec-tools (sscanf skips the indentation) and the kernel's
 * resource walks do: "System RAM (kmem)" under a PMEM range and "System RAM (virtio_mem)" are RAM too.
 * Throws StateError without a (visible) reservation.
 */
export function crashMemoryFromIomem(text: string): CrashMemory {
  const lines = parseIomem(text);
  const reservations = lines
    .filter((l) => l.name === 'Crash kernel' && !l.hidden)
    .map(halfOpen)
    .sort(byStart);
  const region = reservations[reservations.length - 1];
  if (!region) {
    throw new StateError('no "Crash kernel" range in /proc/iomem', {
      hint: 'boot with crashkernel=SIZE and load as root (other users see zeroed /proc/iomem addresses)',
    });
  }
  const ram = lines.filter((l) => l.name.includes('System RAM')).map(halfOpen);
  const gart = lines.filter((l) => l.name === 'GART').map(halfOpen);
  const low = range(0n, LOW_RESERVED_END);
  const dump = subtractRanges(ram, [...reservations, low, ...gart]);
  const lowRam = mergeRanges(
    subtractRanges(ram, [range(LOW_RESERVED_END, 1n << 64n)]).map((r) => ({
      ...r,
      type: 'ram' as const,
    })),
  ).map(({ start, end }) => range(start, end));
  const firmware = mergeRanges(
    lines.flatMap((l) => {
      const type = FIRMWARE_TYPES[l.name];
      return type ? [{ ...halfOpen(l), type }] : [];
    }),
  );
  const code = lines.find((l) => l.name === 'Kernel code');
  const totalRam = mergeRanges(ram.map((r) => ({ ...r, type: 'ram' as const }))).reduce(
    (n, r) => n + r.end - r.start,
    0n,
  );
  return { reservations, region, dump, lowRam, firmware, kernelCode: code?.start, totalRam };
}

/**
 * The capture kernel's e820 (boot_params), as the kernel's file-load path builds it: the RAM of the first
 * MiB, the ACPI, NVS, reserved and persistent ranges, and the reservations as RAM minus `taken` (the ELF
 * core headers, which must survive until /proc/vmcore has read them). Sorted by address.
 */
export function captureE820(mem: CrashMemory, taken: readonly AddressRange[]): MemoryRange[] {
  const usable = subtractRanges(mem.reservations, taken);
  return [
    ...mem.lowRam.map((r) => ({ ...r, type: 'ram' as const })),
    ...usable.map((r) => ({ ...r, type: 'ram' as const })),
    ...mem.firmware,
  ].sort(byStart);
}
