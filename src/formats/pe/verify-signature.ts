// Check an Authenticode signature the way the kernel's kexec_file_load does
// (crypto/asymmetric_keys/verify_pefile.c verify_pefile_signature, then pkcs7_verify.c and
// pkcs7_trust.c): only the first WIN_CERTIFICATE counts; the image digest must equal the signed one; the
// messageDigest attribute must equal the digest of the SpcIndirectDataContent; the signer's key must
// verify the signed attributes; and some certificate of the chain the message carries must be a trusted
// key or be signed by one. Like the kernel, validity dates are not checked.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  Certificate,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { KexecError } from '../../errors.js';
import {
  type AuthenticodeSignature,
  type CertInfo,
  commonName,
  DIGEST_OIDS,
  hex,
  parseAuthenticode,
  SignatureFormatError,
} from './authenticode.js';
import { authenticodeDigest } from './authenticode-digest.js';
import { parsePe } from './pe.js';

/** A certificate the caller trusts, and where it came from ("--cert a.pem", "UEFI db", ...). */
export interface TrustAnchor {
  source: string;
  cert: X509Certificate;
}

/** A key the kernel holds that we can see only by its description (/proc/keys). */
export interface KeyringKey {
  keyring: string;
  description: string;
}

export type Verdict =
  | 'valid'
  | 'unsigned'
  | 'bad-digest'
  | 'bad-signature'
  | 'untrusted'
  | 'malformed'
  | 'not-pe';

export interface SignatureReport {
  verdict: Verdict;
  /** One sentence: why the verdict. */
  reason: string;
  signatures: Array<
    Omit<AuthenticodeSignature, 'content' | 'signature' | 'signedAttrs' | 'certificates' | 'signer'> & {
      signer: Omit<CertInfo, 'der'> | undefined;
      certificates: Array<Omit<CertInfo, 'der'>>;
    }
  >;
  /** The digest of the image as it is, in the first signature's algorithm (sha256 if unsigned). */
  imageDigest: string | undefined;
  digestAlgorithm: string | undefined;
  /** The first signature's signed digest. */
  signedDigest: string | undefined;
  digestMatches: boolean | undefined;
  /** The signer's key verifies the signed attributes, and messageDigest matches the content. */
  signatureValid: boolean | undefined;
  /** The anchor (or kernel key) that made the chain trusted. */
  trustedBy: string | undefined;
  /** What the kernel would do with the second and later signatures: nothing. */
  ignoredSignatures: number;
}

const strip = (c: CertInfo): Omit<CertInfo, 'der'> => ({
  subject: c.subject,
  issuer: c.issuer,
  serial: c.serial,
  fingerprint256: c.fingerprint256,
});

/** Key id hex as the kernel prints it in /proc/keys ("CN: <SKID hex>"), from a certificate. */
export function subjectKeyId(cert: X509Certificate): string | undefined {
  return extensionKeyId(cert, id_ce_subjectKeyIdentifier);
}

function extensionKeyId(cert: X509Certificate, oid: string): string | undefined {
  // node:crypto exposes no extensions: read them with @peculiar/asn1-x509 (RFC 5280 section 4.2.1.1/2).
  const parsed = AsnConvert.parse(cert.raw, Certificate);
  const ext = parsed.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  if (!ext) return undefined;
  if (oid === id_ce_subjectKeyIdentifier)
    return hex(AsnConvert.parse(ext.extnValue, SubjectKeyIdentifier).buffer);
  const aki = AsnConvert.parse(ext.extnValue, AuthorityKeyIdentifier).keyIdentifier;
  return aki ? hex(aki.buffer) : undefined;
}

/** The authority key id of a certificate (its issuer's SKID), hex. */
export function authorityKeyId(cert: X509Certificate): string | undefined {
  return extensionKeyId(cert, id_ce_authorityKeyIdentifier);
}

/**
 * Verify the image's signature against `anchors` (certificates) and `keys` (kernel keyring entries known
 * by description only). Never throws on malformed images: the verdict says 'malformed' or 'not-pe'.
 */
export function verifyImageSignature(
  image: Uint8Array,
  anchors: readonly TrustAnchor[],
  keys: readonly KeyringKey[] = [],
): SignatureReport {
  const report: SignatureReport = {
    verdict: 'not-pe',
    reason: 'not a PE image: only PE kernels (bzImage, EFI zboot, UKI) carry an Authenticode signature',
    signatures: [],
    imageDigest: undefined,
    digestAlgorithm: undefined,
    signedDigest: undefined,
    digestMatches: undefined,
    signatureValid: undefined,
    trustedBy: undefined,
    ignoredSignatures: 0,
  };
  const pe = parsePe(image);
  if (!pe) return report;
  let sigs: AuthenticodeSignature[] = [];
  try {
    if (pe.signed) sigs = parseAuthenticode(image, pe.certOffset, pe.certSize);
    report.signatures = sigs.map(
      ({ content: _c, signature: _s, signedAttrs: _a, certificates, signer, ...rest }) => ({
        ...rest,
        signer: signer && strip(signer),
        certificates: certificates.map(strip),
      }),
    );
    const first = sigs[0];
    const hash = first?.digestAlgorithm ?? 'sha256';
    report.digestAlgorithm = hash;
    if (!Object.values(DIGEST_OIDS).includes(hash))
      // The kernel has no such hash either: kexec_file_load fails with ENOPKG.
      throw new SignatureFormatError(
        `pkcs7: unsupported image digest algorithm ${hash}`,
        'pkcs7',
        first?.offset,
        {
          hint: 'sign the image with SHA-256 (sbsign does)',
        },
      );
    report.imageDigest = hex(authenticodeDigest(image, pe, hash));
    if (!first)
      return done(report, 'unsigned', 'the image has no Authenticode signature (empty certificate table)');
    report.ignoredSignatures = sigs.length - 1;
    report.signedDigest = first.signedDigest;
    report.digestMatches = first.signedDigest === report.imageDigest;
    if (!report.digestMatches)
      return done(
        report,
        'bad-digest',
        `the image was changed after signing: its ${hash} digest is ${report.imageDigest}, the signature is for ${first.signedDigest}`,
      );
    report.signatureValid = checkSignature(first);
    if (!report.signatureValid)
      return done(
        report,
        'bad-signature',
        first.signer
          ? `the signature of ${commonName(first.signer.subject)} does not verify over the signed attributes`
          : `the signer's certificate (issuer ${first.signerIssuer}, serial ${first.signerSerial}) is not in the signature`,
      );
    const trust = findTrust(first, anchors, keys);
    if (!trust)
      return done(
        report,
        'untrusted',
        `signed by ${commonName(first.signer!.subject)} (issuer ${commonName(first.signer!.issuer)}), which no trusted certificate vouches for`,
      );
    report.trustedBy = trust;
    return done(report, 'valid', `signed by ${commonName(first.signer!.subject)}, trusted through ${trust}`);
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    return done(report, 'malformed', e.message);
  }
}

function done(report: SignatureReport, verdict: Verdict, reason: string): SignatureReport {
  report.verdict = verdict;
  report.reason = reason;
  return report;
}

/** pkcs7_verify.c pkcs7_digest + public_key_verify_signature, with node:crypto. */
function checkSignature(sig: AuthenticodeSignature): boolean {
  if (!sig.signer) return false;
  const hash = sig.signerDigestAlgorithm;
  if (!/^sha\d+$/.test(hash)) return false;
  const contentDigest = createHash(hash).update(sig.content).digest('hex');
  // With signed attributes the signature covers them and messageDigest binds the content; without, the
  // signature covers the content itself (RFC 5652 section 5.4).
  let signedBytes: Uint8Array = sig.content;
  if (sig.signedAttrs) {
    if (sig.messageDigest !== contentDigest) return false;
    signedBytes = sig.signedAttrs;
  }
  try {
    const key = new X509Certificate(sig.signer.der).publicKey;
    return verify(hash, signedBytes, key, sig.signature);
  } catch {
    return false;
  }
}

/** pkcs7_trust.c pkcs7_validate_trust_one: walk the chain the message carries, stop at a trusted key. */
function findTrust(
  sig: AuthenticodeSignature,
  anchors: readonly TrustAnchor[],
  keys: readonly KeyringKey[],
): string | undefined {
  const carried = sig.certificates.map((c) => new X509Certificate(c.der));
  let cert: X509Certificate | undefined = new X509Certificate(sig.signer!.der);
  const seen = new Set<string>();
  while (cert && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    for (const a of anchors) {
      if (a.cert.fingerprint256 === cert.fingerprint256 || samePublicKey(a.cert, cert))
        return `${a.source} (${commonName(oneLineName(a.cert.subject))})`;
      if (issuedBy(cert, a.cert)) return `${a.source} (${commonName(oneLineName(a.cert.subject))})`;
    }
    for (const id of [subjectKeyId(cert), authorityKeyId(cert)]) {
      const k = id && keys.find((key) => key.description.toLowerCase().endsWith(`: ${id}`));
      if (k) return `the kernel keyring ${k.keyring} (${k.description})`;
    }
    const c: X509Certificate = cert;
    cert = carried.find((p) => p.fingerprint256 !== c.fingerprint256 && issuedBy(c, p));
  }
  return undefined;
}

/** `cert` names `issuer` as its issuer and `issuer`'s key verifies it; false on keys node cannot use. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function oneLineName(n: string): string {
  return n.split('\n').filter(Boolean).join(', ');
}

function samePublicKey(a: X509Certificate, b: X509Certificate): boolean {
  const der = (x: X509Certificate) => x.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
  return der(a) === der(b);
}
