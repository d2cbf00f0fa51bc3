// Will the running kernel accept this image's signature? What enforces signatures on this machine
// (lockdown, CONFIG_KEXEC_SIG_FORCE, IMA's kexec appraisal, Secure Boot), and the verdict for one image
// against what the kernel trusts (trust.ts). Facts from kernel/kexec_file.c (kimage_validate_signature:
// refused when KEXEC_SIG_FORCE or lockdown; IMA appraisal when "appraise func=KEXEC_KERNEL_CHECK"),
// security/lockdown/lockdown.c (LOCKDOWN_KEXEC at "integrity"), and
// security/integrity/ima/ima_efi.c (the arch policy under Secure Boot appraises kexec images).
import { KexecError } from '../errors.js';
import { type SignatureReport, verifyImageSignature } from '../formats/pe/verify-signature.js';
import { parseUki } from '../formats/uki/uki.js';
import type { Sys } from '../sys/types.js';
import { type Enforcement, readEnforcement } from './enforcement.js';
import { readMachineTrust } from './trust.js';

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
