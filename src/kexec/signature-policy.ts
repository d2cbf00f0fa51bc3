// Will the running kernel accept this image's signature? What enforces signatures on this machine
// (lockdown, CONFIG_KEXEC_SIG_FORCE, IMA's kexec appraisal, Secure Boot), and the verdict for one image
// against what the kernel trusts (trust.ts). Facts from kernel/kexec_file.c (kimage_validate_signature:
// refused when KEXEC_SIG_FORCE or lockdown; IMA appraisal when "appraise func=KEXEC_KERNEL_CHECK"),
// security/lockdown/lockdown.c (LOCKDOWN_KEXEC at "integrity"), and
// security/integrity/ima/ima_efi.c (the arch policy under Secure Boot appraises kexec images).
import { KexecError } from '../errors.js';
import { type SignatureReport, verifyImageSignature } from '../formats/pe/verify-signature.js';
import { parseUki } from '../formats/uki/uki.js';
import {
  readInt,
  readKernelConfig,
  readLockdown,
  readSecureBoot,
  type SecureBootState,
} from '../sys/machine.js';
import type { Sys } from '../sys/types.js';
import { readMachineTrust } from './trust.js';

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
  };
}

function ukiKernel(file: Uint8Array): Uint8Array | undefined {
  try {
    return parseUki(file)?.linux;
  } catch (e) {
    if (e instanceof KexecError) return undefined;
    throw e;
  }
}

export type KernelAnswer = 'yes' | 'no' | 'cannot tell';

export interface KernelVerdict {
  answer: KernelAnswer;
  because: string;
  /** The errno kexec_file_load is expected to return when the answer is "no". */
  errno: string | undefined;
  /** The signature checked against what the machine trusts. */
  machine: SignatureReport;
  enforcement: Enforcement;
  trustSources: string[];
}

/** "the running kernel will accept this image: yes / no / cannot tell, because ..." */
export function kernelVerdict(sys: Sys, file: Uint8Array): KernelVerdict {
  // A UKI is loaded as its .linux (kexec-ts passes it in a memfd, as systemd does): that is what the
  // kernel checks, not the UKI's own signature.
  const image = ukiKernel(file) ?? file;
  const enforcement = readEnforcement(sys);
  const trust = readMachineTrust(sys);
  const machine = verifyImageSignature(image, trust.anchors, trust.keys);
  const base = { machine, enforcement, trustSources: trust.sources };
  const v = (answer: KernelAnswer, because: string, errno?: string): KernelVerdict => ({
    ...base,
    answer,
    because,
    errno,
  });
  if (enforcement.kexecLoadDisabled)
    return v('no', 'kexec_load_disabled is 1: every kexec load is refused until reboot', 'EPERM');
  if (enforcement.enforced === false) return v('yes', `signatures are not enforced (${enforcement.because})`);
  const prefix = enforcement.enforced
    ? `signatures are enforced (${enforcement.because})`
    : `it is unknown whether signatures are enforced (${enforcement.because})`;
  const unsure = enforcement.enforced === undefined;
  if (machine.imageDigest && trust.dbx.includes(machine.imageDigest))
    return v('no', `${prefix} and the image digest is in the UEFI dbx`, 'EKEYREJECTED');
  switch (machine.verdict) {
    case 'not-pe':
      return v(
        unsure ? 'cannot tell' : 'no',
        `${prefix} and the image is not a PE: it carries no signature`,
        unsure ? undefined : 'ENODATA',
      );
    case 'unsigned':
      return v(
        unsure ? 'cannot tell' : 'no',
        `${prefix} and the image is unsigned`,
        unsure ? undefined : 'ENODATA',
      );
    case 'malformed':
      return v(
        unsure ? 'cannot tell' : 'no',
        `${prefix} and the signature is malformed: ${machine.reason}`,
        unsure ? undefined : 'EBADMSG',
      );
    case 'bad-digest':
    case 'bad-signature':
      return v(
        unsure ? 'cannot tell' : 'no',
        `${prefix} and ${machine.reason}`,
        unsure ? undefined : 'EKEYREJECTED',
      );
    case 'valid':
      return v('yes', `the signature is valid: ${machine.reason}`);
    case 'untrusted': {
      const keysSeen = trust.keys.length > 0;
      if (unsure || !keysSeen)
        return v(
          'cannot tell',
          `${prefix}; ${machine.reason}${keysSeen ? '' : ', and the kernel keyrings are not visible here (/proc/keys shows no asymmetric key: run as root)'}`,
        );
      return v(
        'no',
        `${prefix} and ${machine.reason}: not in the UEFI db, MokListRT or a kernel keyring`,
        'ENOKEY',
      );
    }
  }
}
