// Before any syscall: --require-signed (and require_signed in kdump.conf) refuses a kernel that is not
// validly signed by a trusted certificate. Loaded only when asked for: the ASN.1 stack costs ~0.3 s.
import { KexecError, SignaturePolicyError, SyscallError } from '../errors.js';
import type { Sys } from '../sys/types.js';
import { kernelVerdict } from './signature-policy.js';
import { verifyImage } from './verify.js';

/** Throws SignaturePolicyError unless `image` (the kernel that will run) is validly signed and trusted. */
export function requireSignedImage(
  sys: Sys,
  path: string,
  image: Uint8Array,
  trustCerts: readonly string[],
): void {
  const r = verifyImage(sys, path, image, { certs: trustCerts });
  if (r.trusted) return;
  const s = r.signature;
  throw new SignaturePolicyError(
    `--require-signed: ${path} is refused: ${s.verdict}: ${s.reason}`,
    s.verdict,
    {
      hint:
        s.verdict === 'unsigned' || s.verdict === 'not-pe'
          ? 'sign the kernel (sbsign --key KEY --cert CERT) with a key the machine trusts, or give its certificate with --trust-cert'
          : s.verdict === 'untrusted'
            ? "enroll the signer's CA in the UEFI db or MOK (mokutil --import), or pass --trust-cert CA.pem; `kexec-ts verify` shows the chain"
            : 'the image or its signature was changed after signing: use the original file, or re-sign it (sbattach --remove, then sbsign)',
    },
  );
}

/**
 * kexec_file_load refused the signature: the same error, with a hint that also names this kernel's
 * signer and issuer and what the machine trusts (the certificate or keyring that is missing).
 */
export function explainSignatureError(sys: Sys, path: string, err: SyscallError): SyscallError {
  let detail: string;
  try {
    const v = kernelVerdict(sys, sys.readFile(path));
    const first = v.machine.signatures[0];
    const signer = first?.signer
      ? `${path} is signed by ${first.signer.subject} (issuer ${first.signerIssuer})`
      : `${path}: ${v.machine.reason}`;
    const trust = v.trustSources.join('; ');
    detail =
      first?.signer && v.machine.verdict === 'untrusted'
        ? `${signer}; no trusted key vouches for ${first.signerIssuer}: add its certificate to the UEFI db or MOK (${trust})`
        : `${signer}; kexec-ts verify: ${v.machine.verdict}: ${v.machine.reason}`;
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    return err;
  }
  return new SyscallError(err.syscall, err.args, err.errno, err.errnoValue, {
    hint: `${detail}. ${err.hint ?? ''}`.trim(),
    cause: err,
  });
}
