// `kdump status`: is this machine protected, and if not, why. One line per check, like doctor; the
// machine is protected when no check fails.
import { KexecError } from '../../errors.js';
import { type CrashKernelInfo, kernelRelease, readCrashKernel, readKexecState } from '../../sys/machine.js';
import type { Sys } from '../../sys/types.js';
import { CONFIG_PATH, type KdumpConfig, loadKdumpConfig, unsupportedDumpOptions } from './config.js';
import type { ServiceHost } from './host.js';
import { captureKernel } from './load.js';

export type StatusVerdict = 'ok' | 'warn' | 'fail';

export interface StatusCheck {
  id: string;
  title: string;
  verdict: StatusVerdict;
  detail: string;
  hint?: string;
}

export interface KdumpStatus {
  protected: boolean;
  reason: string;
  checks: StatusCheck[];
}

function mib(n: bigint): string {
  return n % (1n << 20n) === 0n ? `${n >> 20n} MiB` : `${n} bytes`;
}

function reservation(c: CrashKernelInfo): StatusCheck {
  const base = { id: 'reservation', title: 'crash memory' };
  const size = c.sysfsBytes !== undefined && c.sysfsBytes > 0n ? c.sysfsBytes : c.iomemBytes;
  const cmd = c.cmdline.length ? c.cmdline.join(' ') : 'no crashkernel= on the command line';
  if (size > 0n) return { ...base, verdict: 'ok', detail: `${mib(size)} reserved (${cmd})` };
  if (c.ranges.length > 0) return { ...base, verdict: 'ok', detail: `reserved, size hidden (${cmd})` };
  return {
    ...base,
    verdict: 'fail',
    detail: `none (${cmd})`,
    hint: c.cmdline.length
      ? 'crashkernel= is set but nothing was reserved: too large for this memory? see dmesg | grep -i crash'
      : 'add crashkernel=256M to the kernel command line (docs/kdump-service.md) and reboot',
  };
}

/** Readable through Sys: openRead + close (FakeSys and the real one alike). */
function readable(sys: Sys, path: string): string | undefined {
  try {
    sys.close(sys.openRead(path));
    return undefined;
  } catch (e) {
    return e instanceof KexecError ? e.message : String(e);
  }
}

function targetCheck(host: ServiceHost, target: string): StatusCheck {
  const base = { id: 'target', title: 'dump target' };
  const kind = host.kind(target);
  if (kind === 'block')
    return { ...base, verdict: 'ok', detail: `${target}: block device (mounted by the capture /init)` };
  if (kind === 'dir') {
    return host.writable(target)
      ? { ...base, verdict: 'ok', detail: `${target}: writable directory` }
      : {
          ...base,
          verdict: 'fail',
          detail: `${target}: directory not writable`,
          hint: 'kdump save runs as root in the capture kernel, but a read-only mount stays read-only',
        };
  }
  return {
    ...base,
    verdict: 'fail',
    detail: `${target}: ${kind === 'missing' ? 'does not exist' : 'neither a directory nor a block device'}`,
    hint: `mkdir -p ${target}, or set TARGET= in ${CONFIG_PATH}`,
  };
}

export function kdumpStatus(sys: Sys, host: ServiceHost, configPath = CONFIG_PATH): KdumpStatus {
  const checks: StatusCheck[] = [];
  let cfg: KdumpConfig | undefined;
  try {
    cfg = loadKdumpConfig((p) => sys.readText(p), configPath);
    const unsupported = unsupportedDumpOptions(cfg, kernelRelease(sys));
    checks.push({
      id: 'config',
      title: 'configuration',
      verdict: unsupported ? 'warn' : 'ok',
      detail: cfg.source === 'defaults' ? `${configPath} absent: defaults` : `${cfg.source} valid`,
      ...(unsupported ? { hint: unsupported } : {}),
    });
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    checks.push({
      id: 'config',
      title: 'configuration',
      verdict: 'fail',
      detail: e.message,
      hint: e.hint ?? '',
    });
  }
  checks.push(reservation(readCrashKernel(sys)));
  const loaded = readKexecState(sys).crashLoaded;
  checks.push(
    loaded
      ? {
          id: 'loaded',
          title: 'crash kernel loaded',
          verdict: 'ok',
          detail: '/sys/kernel/kexec_crash_loaded = 1',
        }
      : {
          id: 'loaded',
          title: 'crash kernel loaded',
          verdict: 'fail',
          detail:
            loaded === undefined
              ? 'no /sys/kernel/kexec_crash_loaded (kernel without kexec)'
              : 'no (kexec_crash_loaded = 0)',
          hint: 'kexec-ts kdump load',
        },
  );
  if (cfg) {
    let kernel: string | undefined;
    try {
      kernel = captureKernel(sys, cfg);
    } catch (e) {
      if (!(e instanceof KexecError)) throw e;
    }
    const kErr = kernel === undefined ? 'release unknown' : readable(sys, kernel);
    checks.push(
      kErr
        ? {
            id: 'kernel',
            title: 'capture kernel',
            verdict: 'fail',
            detail: kErr,
            hint: 'set KERNEL= in the config',
          }
        : { id: 'kernel', title: 'capture kernel', verdict: 'ok', detail: kernel! },
    );
    const iErr = readable(sys, cfg.initrd);
    checks.push(
      iErr
        ? {
            id: 'initrd',
            title: 'capture initramfs',
            verdict: 'fail',
            detail: iErr,
            hint: `kexec-ts kdump build-initrd -o ${cfg.initrd}`,
          }
        : { id: 'initrd', title: 'capture initramfs', verdict: 'ok', detail: cfg.initrd },
    );
    checks.push(targetCheck(host, cfg.target));
  }
  const failed = checks.filter((c) => c.verdict === 'fail');
  return {
    protected: failed.length === 0,
    reason: failed.length === 0 ? 'a crash will be captured' : failed.map((c) => c.title).join(', '),
    checks,
  };
}

const MARK: Record<StatusVerdict, string> = { ok: 'OK', warn: 'WARN', fail: 'FAIL' };

export function formatKdumpStatus(s: KdumpStatus): string {
  const width = Math.max(...s.checks.map((c) => c.title.length));
  const lines = s.checks.flatMap((c) => [
    `${MARK[c.verdict].padEnd(4)}  ${c.title.padEnd(width)}  ${c.detail}`,
    ...(c.hint ? [`${' '.repeat(6 + width + 2)}hint: ${c.hint}`] : []),
  ]);
  lines.push('', s.protected ? `protected: yes (${s.reason})` : `protected: no (failed: ${s.reason})`);
  return `${lines.join('\n')}\n`;
}
