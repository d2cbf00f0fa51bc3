// `kexec-ts doctor`: can this machine kexec, and can it kdump? One read-only check per line, each
// with a verdict and, when something is wrong, what to do. Nothing here calls a kexec syscall: a
// side-effect-free probe of kexec_file_load does not exist, so syscall support comes from the config.
import {
  type CrashKernelInfo,
  type KernelConfig,
  kernelRelease,
  readCrashKernel,
  readInt,
  readKernelConfig,
  readKexecState,
  readLockdown,
  readSecureBoot,
} from '../sys/machine.js';
import type { Sys } from '../sys/types.js';
import { readEnforcement } from './enforcement.js';

export type Verdict = 'ok' | 'warn' | 'fail' | 'info';

export interface DoctorCheck {
  id: string;
  title: string;
  verdict: Verdict;
  detail: string;
  hint?: string;
}

/** yes: nothing in the way; maybe: depends on something we cannot see (or a signed kernel); no: blocked. */
export interface DoctorOverall {
  answer: 'yes' | 'maybe' | 'no';
  reason: string;
}

export interface DoctorReport {
  arch: string;
  kernelRelease: string | null;
  checks: DoctorCheck[];
  kexec: DoctorOverall;
  kdump: DoctorOverall;
}

type Tri = boolean | undefined;

function configCheck(
  id: string,
  title: string,
  config: KernelConfig | undefined,
  option: string,
): DoctorCheck {
  const v = config?.options.get(option);
  if (!config) return { id, title, verdict: 'info', detail: `${option}: unknown (no kernel config found)` };
  const detail = v === undefined || v === 'n' ? `${option} is not set` : `${option}=${v}`;
  return { id, title, verdict: v === 'y' ? 'ok' : 'warn', detail };
}

function enabled(config: KernelConfig | undefined, option: string): Tri {
  return config ? config.options.get(option) === 'y' : undefined;
}

function mib(bytes: bigint): string {
  return bytes % (1024n * 1024n) === 0n ? `${bytes / (1024n * 1024n)} MiB` : `${bytes} bytes`;
}

function crashCheck(c: CrashKernelInfo): { check: DoctorCheck; reserved: boolean } {
  const cmd = c.cmdline.length ? `cmdline ${c.cmdline.join(' ')}` : 'no crashkernel= on the command line';
  const base = { id: 'crashkernel', title: 'crash kernel memory' };
  const size = c.sysfsBytes ?? (c.hidden ? undefined : c.iomemBytes);
  if (size !== undefined && size > 0n) {
    return { reserved: true, check: { ...base, verdict: 'ok', detail: `${mib(size)} reserved; ${cmd}` } };
  }
  if (size === undefined && c.ranges.length > 0) {
    const detail = `${c.ranges.length} "Crash kernel" range(s) in /proc/iomem, size hidden (zeros shown to non-root); ${cmd}`;
    return { reserved: true, check: { ...base, verdict: 'ok', detail } };
  }
  const hint = c.cmdline.length
    ? 'crashkernel= is set but nothing was reserved: check `dmesg | grep -i crash` (too large for memory?)'
    : 'kdump (-p) needs a reservation: add e.g. crashkernel=256M to the kernel command line and reboot';
  return {
    reserved: false,
    check: { ...base, verdict: c.cmdline.length ? 'fail' : 'warn', detail: `none; ${cmd}`, hint },
  };
}

function limitCheck(sys: Sys, which: 'reboot' | 'panic'): DoctorCheck | undefined {
  const path = `/proc/sys/kernel/kexec_load_limit_${which}`;
  const v = readInt(sys, path);
  if (v === undefined) return undefined;
  const id = `kexec-load-limit-${which}`;
  const title = `${which === 'reboot' ? 'normal' : 'crash'} load limit`;
  if (v === 0) {
    const hint = `no more ${which === 'reboot' ? '-l' : '-p'} loads until reboot (${path} only decreases)`;
    return { id, title, verdict: 'fail', detail: `${path} = 0`, hint };
  }
  return { id, title, verdict: 'ok', detail: v < 0 ? 'unlimited' : `${v} load(s) left` };
}

export function runDoctor(sys: Sys): DoctorReport {
  const checks: DoctorCheck[] = [];
  const release = kernelRelease(sys);
  const config = readKernelConfig(sys);
  checks.push(
    config
      ? { id: 'kernel-config', title: 'kernel config', verdict: 'info', detail: `read from ${config.source}` }
      : {
          id: 'kernel-config',
          title: 'kernel config',
          verdict: 'warn',
          detail: `not found (/proc/config.gz, /boot/config-${release ?? '?'}): syscall support unknown`,
          hint: 'CONFIG_IKCONFIG_PROC=y or the distro config in /boot lets doctor tell more',
        },
  );
  checks.push(configCheck('config-kexec-file', 'kexec_file_load syscall', config, 'CONFIG_KEXEC_FILE'));
  checks.push(configCheck('config-kexec', 'kexec_load syscall', config, 'CONFIG_KEXEC'));
  const syscallChecks = checks.slice(-2);
  if (syscallChecks.every((c) => c.verdict === 'warn')) {
    for (const c of syscallChecks) c.verdict = 'fail';
    syscallChecks[0]!.hint =
      'this kernel cannot kexec: boot one built with CONFIG_KEXEC_FILE=y (or CONFIG_KEXEC=y)';
  }
  const sig = enabled(config, 'CONFIG_KEXEC_SIG');
  const sigForce = enabled(config, 'CONFIG_KEXEC_SIG_FORCE');
  checks.push({
    id: 'config-kexec-sig',
    title: 'kernel signature check',
    verdict: 'info',
    detail:
      config === undefined
        ? 'unknown'
        : sigForce
          ? 'CONFIG_KEXEC_SIG_FORCE=y: kexec_file_load accepts only signed kernels'
          : sig
            ? 'CONFIG_KEXEC_SIG=y: signatures checked, enforced only under lockdown'
            : 'CONFIG_KEXEC_SIG not set',
  });
  checks.push(configCheck('config-crash-dump', 'crash dump support', config, 'CONFIG_CRASH_DUMP'));

  const cap = sys.hasCapSysBoot();
  checks.push(
    cap
      ? { id: 'cap-sys-boot', title: 'CAP_SYS_BOOT', verdict: 'ok', detail: 'this process has it' }
      : {
          id: 'cap-sys-boot',
          title: 'CAP_SYS_BOOT',
          verdict: 'fail',
          detail: 'this process lacks it',
          hint: 'load and exec need root (or CAP_SYS_BOOT)',
        },
  );

  const disabled = readInt(sys, '/proc/sys/kernel/kexec_load_disabled');
  checks.push(
    disabled === undefined
      ? { id: 'kexec-load-disabled', title: 'kexec_load_disabled', verdict: 'info', detail: 'sysctl absent' }
      : disabled === 0
        ? { id: 'kexec-load-disabled', title: 'kexec_load_disabled', verdict: 'ok', detail: '0' }
        : {
            id: 'kexec-load-disabled',
            title: 'kexec_load_disabled',
            verdict: 'fail',
            detail: `${disabled}: all kexec loads are refused`,
            hint: 'kernel.kexec_load_disabled is one-way: it stays set until reboot (check sysctl.d for who sets it)',
          },
  );
  const limitReboot = limitCheck(sys, 'reboot');
  const limitPanic = limitCheck(sys, 'panic');
  for (const c of [limitReboot, limitPanic]) if (c) checks.push(c);

  const lockdown = readLockdown(sys);
  const locked = lockdown !== undefined && lockdown !== 'none';
  checks.push({
    id: 'lockdown',
    title: 'kernel lockdown',
    verdict: locked ? 'warn' : lockdown === undefined ? 'info' : 'ok',
    detail:
      lockdown === undefined
        ? 'no /sys/kernel/security/lockdown (LSM absent or securityfs unmounted)'
        : lockdown,
    ...(locked
      ? {
          hint: 'kexec_load is refused; use kexec_file_load (the default) with a kernel signed by a trusted key',
        }
      : {}),
  });
  const sb = readSecureBoot(sys);
  checks.push({
    id: 'secure-boot',
    title: 'UEFI Secure Boot',
    verdict: sb === 'enabled' ? 'warn' : 'info',
    detail: sb === 'not-efi' ? 'not an EFI system' : sb,
    ...(sb === 'enabled'
      ? { hint: 'distro kernels enable lockdown under Secure Boot: only signed kernels load' }
      : {}),
  });

  const enforcement = readEnforcement(sys);
  const ima = enforcement.imaKexecAppraise;
  checks.push({
    id: 'ima-kexec',
    title: 'IMA kexec appraisal',
    verdict: ima ? 'warn' : 'info',
    detail:
      ima === undefined
        ? 'IMA policy not readable (no securityfs ima/policy, or CONFIG_IMA_READ_POLICY is off)'
        : ima
          ? 'the policy appraises KEXEC_KERNEL_CHECK: kexec images must be signed, kexec_load gets EACCES'
          : 'no appraise rule for KEXEC_KERNEL_CHECK',
    ...(ima
      ? { hint: 'use kexec_file_load (the default) with a kernel signed by a key in .platform or .ima' }
      : {}),
  });
  checks.push({
    id: 'signature-enforcement',
    title: 'kexec signatures',
    verdict: enforcement.enforced ? 'warn' : enforcement.enforced === false ? 'ok' : 'info',
    detail: `${enforcement.enforced ? 'enforced' : enforcement.enforced === false ? 'not enforced' : 'unknown'}: ${enforcement.because}${enforcement.kexecLoadRefusedBecause ? `; kexec_load refused: ${enforcement.kexecLoadRefusedBecause}` : ''}`,
    ...(enforcement.enforced
      ? { hint: 'only kernels signed by a key the kernel trusts load: check one with kexec-ts verify KERNEL' }
      : {}),
  });

  const crash = crashCheck(readCrashKernel(sys));
  checks.push(crash.check);
  const state = readKexecState(sys);
  const show = (v: Tri): string => (v === undefined ? 'unknown (no sysfs file)' : v ? 'yes' : 'no');
  checks.push({
    id: 'loaded',
    title: 'loaded now',
    verdict: 'info',
    detail: `kernel: ${show(state.loaded)}; crash kernel: ${show(state.crashLoaded)}`,
  });

  const load = overallLoad(config, cap, disabled, locked || enforcement.enforced === true, sigForce);
  const kexec: DoctorOverall =
    load.answer !== 'no' && limitReboot?.verdict === 'fail'
      ? { answer: 'no', reason: 'kexec_load_limit_reboot is used up' }
      : load;
  const kdump = overallKdump(load, config, crash.reserved, limitPanic);
  return { arch: sys.arch, kernelRelease: release ?? null, checks, kexec, kdump };
}

/** What blocks both normal and crash loads. */
function overallLoad(
  config: KernelConfig | undefined,
  cap: boolean,
  disabled: number | undefined,
  locked: boolean,
  sigForce: Tri,
): DoctorOverall {
  if (config && !enabled(config, 'CONFIG_KEXEC_FILE') && !enabled(config, 'CONFIG_KEXEC')) {
    return { answer: 'no', reason: 'the kernel has neither CONFIG_KEXEC nor CONFIG_KEXEC_FILE' };
  }
  if (disabled !== undefined && disabled !== 0)
    return { answer: 'no', reason: 'kernel.kexec_load_disabled=1' };
  if (!cap) return { answer: 'no', reason: 'not as this user: CAP_SYS_BOOT is missing (try as root)' };
  if (!config) return { answer: 'maybe', reason: 'kernel config not found: syscall support unknown' };
  if (locked || sigForce) {
    if (!enabled(config, 'CONFIG_KEXEC_FILE'))
      return { answer: 'no', reason: 'locked down and no kexec_file_load' };
    return {
      answer: 'maybe',
      reason: 'only with a kernel signed by a trusted key (lockdown, KEXEC_SIG_FORCE or IMA appraisal)',
    };
  }
  return { answer: 'yes', reason: 'nothing in the way' };
}

function overallKdump(
  load: DoctorOverall,
  config: KernelConfig | undefined,
  reserved: boolean,
  limit: DoctorCheck | undefined,
): DoctorOverall {
  if (load.answer === 'no') return load;
  if (config && !enabled(config, 'CONFIG_CRASH_DUMP'))
    return { answer: 'no', reason: 'CONFIG_CRASH_DUMP is not set' };
  if (!reserved) return { answer: 'no', reason: 'no crashkernel= memory reserved' };
  if (limit?.verdict === 'fail') return { answer: 'no', reason: 'kexec_load_limit_panic is used up' };
  return load.answer === 'yes' ? { answer: 'yes', reason: 'crash kernel memory is reserved' } : load;
}

const MARK: Record<Verdict, string> = { ok: 'OK', warn: 'WARN', fail: 'FAIL', info: 'INFO' };

/** Aligned table: verdict, check, detail; hints indented under their line; then the two answers. */
export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines = [`kexec-ts doctor: ${report.arch}, Linux ${report.kernelRelease ?? 'unknown'}`, ''];
  for (const c of report.checks) {
    lines.push(`${MARK[c.verdict].padEnd(4)}  ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.hint) lines.push(`${' '.repeat(6 + width + 2)}hint: ${c.hint}`);
  }
  lines.push('', `can kexec: ${report.kexec.answer} (${report.kexec.reason})`);
  lines.push(`can kdump: ${report.kdump.answer} (${report.kdump.reason})`);
  return `${lines.join('\n')}\n`;
}
