// Before any syscall: --require-signed (and require_signed in kdump.conf) refuses a kernel that is not
// validly signed by a trusted certificate. Loaded only when asked for: the ASN.1 stack costs ~0.3 s.
import { SignaturePolicyError } from '../errors.js';
import type { Sys } from '../sys/types.js';
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
