// Read-only facts about the running machine that decide whether kexec/kdump can work: kernel
// config, crashkernel reservation, lockdown, Secure Boot, loaded images. All go through a Sys so
// they run against FakeSys in tests.
import { gunzipSync } from 'node:zlib';
import { rangeSize } from '../range.js';
import { crashKernelRanges, type IomemResource, parseIomem } from './iomem.js';
import { KEXEC_CRASH_LOADED, KEXEC_LOADED, type Sys } from './types.js';

export interface KernelConfig {
  /** Where it was read from: /proc/config.gz or /boot/config-<release>. */
  source: string;
  /** CONFIG_X -> 'y' | 'm' | 'n' (for "is not set") | the raw value. */
  options: Map<string, string>;
}

export function parseKernelConfig(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) options.set(set[1]!, set[2]!.replace(/^"(.*)"$/, '$1'));
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) options.set(unset[1]!, 'n');
  }
  return options;
}

export function kernelRelease(sys: Sys): string | undefined {
  return sys.readText('/proc/sys/kernel/osrelease')?.trim() || undefined;
}

/** The running kernel's config (CONFIG_IKCONFIG_PROC, else the distro's /boot copy); undefined if neither. */
export function readKernelConfig(sys: Sys): KernelConfig | undefined {
  try {
    const text = gunzipSync(sys.readFile('/proc/config.gz')).toString('utf8');
    return { source: '/proc/config.gz', options: parseKernelConfig(text) };
  } catch {
    // absent (no CONFIG_IKCONFIG_PROC), unreadable or corrupt: try /boot
  }
  const release = kernelRelease(sys);
  if (!release) return undefined;
  const source = `/boot/config-${release}`;
  const text = sys.readText(source);
  return text === undefined ? undefined : { source, options: parseKernelConfig(text) };
}

export interface CrashKernelInfo {
  /** "Crash kernel" ranges in /proc/iomem (half-open; 0-1 each when hidden). */
  ranges: IomemResource[];
  /** The kernel shows 0-0 addresses to readers without CAP_SYS_ADMIN: sizes unknown from iomem. */
  hidden: boolean;
  /** Total bytes of the ranges (0 when hidden). */
  iomemBytes: bigint;
  /** /sys/kernel/kexec_crash_size, when present (readable by everyone). */
  sysfsBytes: bigint | undefined;
  /** crashkernel=... arguments on /proc/cmdline. */
  cmdline: string[];
}

export function readCrashKernel(sys: Sys): CrashKernelInfo {
  const ranges = crashKernelRanges(parseIomem(sys.readText('/proc/iomem') ?? ''));
  const hidden = ranges.length > 0 && ranges.every((r) => r.hidden);
  const iomemBytes = hidden ? 0n : ranges.reduce((sum, r) => sum + rangeSize(r), 0n);
  const size = sys.readText('/sys/kernel/kexec_crash_size')?.trim();
  const sysfsBytes = size && /^\d+$/.test(size) ? BigInt(size) : undefined;
  const cmdline = (sys.readText('/proc/cmdline') ?? '')
    .split(/\s+/)
    .filter((a) => a.startsWith('crashkernel='));
  return { ranges, hidden, iomemBytes, sysfsBytes, cmdline };
}

/** The active lockdown mode ("none", "integrity", "confidentiality"); undefined without the LSM file. */
export function readLockdown(sys: Sys): string | undefined {
  const text = sys.readText('/sys/kernel/security/lockdown');
  return text === undefined ? undefined : (/\[(\w+)\]/.exec(text)?.[1] ?? text.trim());
}

export const SECURE_BOOT_VAR = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';
export type SecureBootState = 'enabled' | 'disabled' | 'not-efi' | 'unknown';

/** UEFI SecureBoot variable: efivarfs prefixes the 1-byte value with 4 bytes of attributes. */
export function readSecureBoot(sys: Sys): SecureBootState {
  if (sys.listDir('/sys/firmware/efi') === undefined) return 'not-efi';
  let data: Uint8Array;
  try {
    data = sys.readFile(SECURE_BOOT_VAR);
  } catch {
    return 'unknown';
  }
  if (data.length < 5) return 'unknown';
  return data[4] === 1 ? 'enabled' : 'disabled';
}

/** An integer sysctl or sysfs value; undefined when absent or not a number. */
export function readInt(sys: Sys, path: string): number | undefined {
  const text = sys.readText(path)?.trim();
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}

export interface KexecState {
  /** /sys/kernel/kexec_loaded; undefined when the file is missing (kernel without kexec). */
  loaded: boolean | undefined;
  /** /sys/kernel/kexec_crash_loaded. */
  crashLoaded: boolean | undefined;
}

export function readKexecState(sys: Sys): KexecState {
  const flag = (path: string): boolean | undefined => {
    const v = readInt(sys, path);
    return v === undefined ? undefined : v !== 0;
  };
  return { loaded: flag(KEXEC_LOADED), crashLoaded: flag(KEXEC_CRASH_LOADED) };
}
