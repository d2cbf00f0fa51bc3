// `kdump load|unload`: put the capture kernel into the crashkernel= reservation with the command line
// every distro service builds: the running one minus what must not reach the capture kernel, plus the
// capture options (APPEND).
import { StateError } from '../../errors.js';
import { paramName, removeParam, splitParams } from '../../kexec/cmdline.js';
import { type LoadResult, loadKernel, unloadKernel } from '../../kexec/load.js';
import { kernelRelease } from '../../sys/machine.js';
import type { Sys } from '../../sys/types.js';
import type { KdumpConfig } from './config.js';

/**
 * Removed from the running command line. BOOT_IMAGE= and crashkernel= as kexec-tools' --reuse-cmdline
 * does with -p (a capture kernel must not reserve memory again); hugepages=/hugepagesz= as kdump-tools'
 * kdump-config does (pinning huge pages would eat the small reservation); log_buf_len= and slub_debug as
 * RHEL's KDUMP_COMMANDLINE_REMOVE does (a large log buffer and debug slab metadata cost reservation memory).
 */
export const DROPPED_PARAMS = [
  'BOOT_IMAGE',
  'crashkernel',
  'hugepages',
  'hugepagesz',
  'default_hugepagesz',
  'log_buf_len',
  'slub_debug',
];

/** The running line minus DROPPED_PARAMS and minus every parameter APPEND sets again, then APPEND. */
export function captureCmdline(procCmdline: string, append: string): string {
  let line = procCmdline.replace(/\n$/, '').trim();
  const appended = new Set(splitParams(append).map(paramName));
  for (const name of [...DROPPED_PARAMS, ...appended]) line = removeParam(line, name);
  return [line, append.trim()].filter((s) => s.length > 0).join(' ');
}

export interface KdumpPlan {
  kernel: string;
  initrd: string;
  cmdline: string;
}

/** /boot/vmlinuz-$(uname -r) unless KERNEL is set. */
export function captureKernel(sys: Sys, cfg: KdumpConfig): string {
  if (cfg.kernel) return cfg.kernel;
  const release = kernelRelease(sys);
  if (!release)
    throw new StateError('cannot tell the running kernel release (/proc/sys/kernel/osrelease)', {
      hint: 'set KERNEL= in /etc/kexec-ts/kdump.conf',
    });
  return `/boot/vmlinuz-${release}`;
}

export function planKdumpLoad(sys: Sys, cfg: KdumpConfig): KdumpPlan {
  const running = sys.readText('/proc/cmdline');
  if (running === undefined) throw new StateError('cannot read /proc/cmdline', { hint: 'is /proc mounted?' });
  return {
    kernel: captureKernel(sys, cfg),
    initrd: cfg.initrd,
    cmdline: captureCmdline(running, cfg.append),
  };
}

export function kdumpLoad(
  sys: Sys,
  plan: KdumpPlan,
  debug: (s: string) => void = () => {},
  checkImage?: (path: string, kernel: Uint8Array) => void,
): LoadResult {
  return loadKernel(
    sys,
    {
      kernel: plan.kernel,
      initrd: plan.initrd,
      cmdline: plan.cmdline,
      crash: true,
      syscall: 'auto',
      checkImage,
    },
    debug,
  );
}

export function kdumpUnload(sys: Sys): 'kexec_file_load' | 'kexec_load' {
  return unloadKernel(sys, true, 'auto');
}
