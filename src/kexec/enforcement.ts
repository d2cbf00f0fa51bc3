// What enforces kexec signatures on this machine now, read through Sys, without the ASN.1 stack (the
// load path reads it on every -l/-p): lockdown, CONFIG_KEXEC_SIG/_FORCE, Secure Boot, IMA's kexec
// appraisal, kexec_load_disabled. Facts from kernel/kexec_file.c (kimage_validate_signature: a bad or
// missing signature is refused when KEXEC_SIG_FORCE or lockdown), kernel/kexec.c (kexec_load_check:
// LOCKDOWN_KEXEC gives EPERM), security/lockdown/lockdown.c (LOCKDOWN_KEXEC is an "integrity" reason),
// security/integrity/ima/ima_main.c (ima_load_data: kexec_load gets EACCES while IMA appraises kexec
// images) and ima_efi.c (the arch policy appraises kexec images under Secure Boot).
import { StateError } from '../errors.js';
import {
  readInt,
  readKernelConfig,
  readLockdown,
  readSecureBoot,
  type SecureBootState,
} from '../sys/machine.js';
import type { Sys } from '../sys/types.js';

export const IMA_POLICY_PATHS = [
  '/sys/kernel/security/ima/policy',
  '/sys/kernel/security/integrity/ima/policy',
];
export const KEXEC_LOAD_DISABLED = '/proc/sys/kernel/kexec_load_disabled';

export interface Enforcement {
  /** "none" | "integrity" | "confidentiality"; undefined without the lockdown LSM file. */
  lockdown: string | undefined;
  kexecSig: boolean | undefined;
  kexecSigForce: boolean | undefined;
  secureBoot: SecureBootState;
  /** An IMA rule "appraise func=KEXEC_KERNEL_CHECK" is loaded; undefined when the policy is unreadable. */
  imaKexecAppraise: boolean | undefined;
  /** /proc/sys/kernel/kexec_load_disabled (1: both syscalls refused until reboot). */
  kexecLoadDisabled: boolean | undefined;
  /** Signatures are enforced for kexec_file_load: true, false, or undefined (cannot tell). */
  enforced: boolean | undefined;
  /** Why (or why we cannot tell). */
  because: string;
  /** kexec_load is refused (lockdown at integrity or above, or IMA's kexec appraisal). */
  kexecLoadRefused: boolean;
  /** Why kexec_load is refused, when it is: 'lockdown is "integrity"', ... */
  kexecLoadRefusedBecause: string | undefined;
}

/** IMA policy lines that appraise kexec kernel images (Documentation/ABI/testing/ima_policy). */
export function imaAppraisesKexec(policy: string): boolean {
  return policy.split('\n').some((l) => /^\s*appraise\b/.test(l) && /\bfunc=KEXEC_KERNEL_CHECK\b/.test(l));
}

export function readEnforcement(sys: Sys): Enforcement {
  const lockdown = readLockdown(sys);
  const config = readKernelConfig(sys)?.options;
  const flag = (name: string): boolean | undefined => {
    const v = config?.get(name);
    return config === undefined ? undefined : v === 'y';
  };
  const kexecSig = flag('CONFIG_KEXEC_SIG');
  const kexecSigForce = flag('CONFIG_KEXEC_SIG_FORCE');
  const secureBoot = readSecureBoot(sys);
  let imaKexecAppraise: boolean | undefined;
  for (const p of IMA_POLICY_PATHS) {
    const text = sys.readText(p);
    if (text !== undefined) imaKexecAppraise = (imaKexecAppraise ?? false) || imaAppraisesKexec(text);
  }
  const disabled = readInt(sys, KEXEC_LOAD_DISABLED);
  const kexecLoadDisabled = disabled === undefined ? undefined : disabled !== 0;
  const locked = lockdown !== undefined && lockdown !== 'none';
  const reasons: string[] = [];
  if (locked) reasons.push(`lockdown is "${lockdown}"`);
  if (kexecSigForce) reasons.push('CONFIG_KEXEC_SIG_FORCE=y');
  if (imaKexecAppraise) reasons.push('the IMA policy appraises KEXEC_KERNEL_CHECK');
  const imaArch =
    imaKexecAppraise === undefined && secureBoot === 'enabled' && flag('CONFIG_IMA_ARCH_POLICY');
  if (imaArch) reasons.push('Secure Boot is on and CONFIG_IMA_ARCH_POLICY=y');
  let enforced: boolean | undefined;
  let because: string;
  if (reasons.length > 0) {
    enforced = true;
    because = reasons.join(', ');
  } else if (lockdown !== undefined && config !== undefined && imaKexecAppraise !== undefined) {
    enforced = false;
    because = 'no lockdown, no CONFIG_KEXEC_SIG_FORCE and no IMA kexec appraisal';
  } else {
    const unknown = [
      lockdown === undefined ? 'no lockdown file' : '',
      config === undefined ? 'no kernel config' : '',
      imaKexecAppraise === undefined ? 'the IMA policy is not readable' : '',
    ].filter(Boolean);
    enforced = undefined;
    because = unknown.join(', ');
  }
  return {
    lockdown,
    kexecSig,
    kexecSigForce,
    secureBoot,
    imaKexecAppraise,
    kexecLoadDisabled,
    enforced,
    because,
    kexecLoadRefused: locked || imaKexecAppraise === true || imaArch === true,
    // kernel/kexec.c kexec_load_check: security_locked_down(LOCKDOWN_KEXEC) gives EPERM; IMA's
    // ima_load_data(LOADING_KEXEC_IMAGE) gives EACCES when it appraises kexec images.
    // kexec_load_check() asks IMA first (EACCES), then lockdown (EPERM).
    kexecLoadRefusedBecause: locked
      ? `lockdown is "${lockdown}" (kexec_load gets EPERM, or EACCES when IMA appraises kexec images)`
      : imaKexecAppraise || imaArch
        ? 'IMA appraises kexec images (kexec_load gets EACCES)'
        : undefined,
  };
}

/** kexec_load is refused now (lockdown or IMA): the reason, else undefined. */
export function kexecLoadBlocked(sys: Sys): string | undefined {
  return readEnforcement(sys).kexecLoadRefusedBecause;
}

/** -c under lockdown: fail before the syscall, saying why and pointing to -s. */
export function refuseKexecLoad(why: string, crash: boolean): never {
  throw new StateError(`kexec_load (-c${crash ? ' -p' : ''}) is refused by the running kernel: ${why}`, {
    hint: `use kexec_file_load: -s${crash ? ' -p' : ''} (or the default), with a kernel signed by a key the kernel trusts (check it with kexec-ts verify KERNEL)`,
  });
}
