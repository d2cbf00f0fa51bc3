// The crash kernel reservation, as -p and --print-ckr-size need it.
import { rangeSize } from '../range.js';
import { type CrashKernelInfo, readCrashKernel } from '../sys/machine.js';
import type { Sys } from '../sys/types.js';

/**
 * kexec-tools' --print-ckr-size reports the highest "Crash kernel" range of /proc/iomem. Readers without
 * CAP_SYS_ADMIN see zeroed addresses there, so /sys/kernel/kexec_crash_size stands in for them.
 */
export function crashKernelSize(info: CrashKernelInfo): bigint {
  const highest = [...info.ranges].sort((a, b) => (a.start < b.start ? 1 : -1))[0];
  if (!info.hidden && highest) return rangeSize(highest);
  return info.sysfsBytes ?? 0n;
}

/** kexec-tools' is_crashkernel_mem_reserved(), plus the sysfs size for unprivileged readers. */
export function hasCrashReservation(sys: Sys): boolean {
  const info = readCrashKernel(sys);
  return info.ranges.length > 0 || (info.sysfsBytes ?? 0n) > 0n;
}

export { readCrashKernel };
