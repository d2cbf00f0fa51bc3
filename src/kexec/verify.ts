// `kexec-ts verify` and the signature lines of `inspect`: the image's signature checked against the
// certificates the user gave and what the machine trusts, and the running kernel's expected answer.
import { X509Certificate } from 'node:crypto';
import { UsageError } from '../errors.js';
import { commonName } from '../formats/pe/authenticode.js';
import {
  type SignatureReport,
  type TrustAnchor,
  verifyImageSignature,
} from '../formats/pe/verify-signature.js';
import type { Sys } from '../sys/types.js';
import { type KernelVerdict, kernelVerdict } from './signature-policy.js';
import { readMachineTrust } from './trust.js';

export interface VerifyOptions {
  certs?: readonly string[];
  keyrings?: readonly string[];
  /** Also trust the UEFI db, MokListRT and the kernel keys (default true). */
  machineTrust?: boolean;
}

export interface VerifyResult {
  file: string;
  /** Validly signed by a trusted certificate: verify's exit status 0. */
  trusted: boolean;
  signature: SignatureReport;
  kernel: KernelVerdict;
  trustSources: string[];
}

/** Certificates in a PEM bundle (any number of CERTIFICATE blocks) or one DER certificate. */
export function parseCertificates(data: Uint8Array, source: string): X509Certificate[] {
  const text = Buffer.from(data).toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  try {
    if (blocks) return blocks.map((b) => new X509Certificate(b));
    return [new X509Certificate(data)];
  } catch (e) {
    throw new UsageError(`${source}: not a PEM or DER X.509 certificate (${(e as Error).message})`, {
      hint: 'give a certificate, e.g. openssl x509 -in db.crt -out db.pem',
    });
  }
}

export function readAnchors(sys: Sys, options: VerifyOptions): TrustAnchor[] {
  const anchors: TrustAnchor[] = [];
  for (const path of options.certs ?? [])
    for (const cert of parseCertificates(sys.readFile(path), path))
      anchors.push({ source: `--cert ${path}`, cert });
  for (const path of options.keyrings ?? []) {
    const entries = sys.listDir(path);
    const files = entries
      ? entries.filter((n) => /\.(pem|crt|cer|der)$/i.test(n)).map((n) => `${path.replace(/\/$/, '')}/${n}`)
      : [path];
    for (const f of files)
      for (const cert of parseCertificates(sys.readFile(f), f))
        anchors.push({ source: `--keyring ${path}`, cert });
  }
  return anchors;
}

export function verifyImage(
  sys: Sys,
  file: string,
  image: Uint8Array,
  options: VerifyOptions = {},
): VerifyResult {
  const given = readAnchors(sys, options);
  const machine = options.machineTrust === false ? undefined : readMachineTrust(sys);
  const signature = verifyImageSignature(image, [...given, ...(machine?.anchors ?? [])], machine?.keys ?? []);
  const kernel = kernelVerdict(sys, image);
  return {
    file,
    trusted: signature.verdict === 'valid',
    signature,
    kernel,
    trustSources: [
      ...given.map((a) => `${a.source}: ${commonName(a.cert.subject.split('\n').join(', '))}`),
      ...(machine?.sources ?? []),
    ],
  };
}

export function verifyFile(sys: Sys, file: string, options: VerifyOptions = {}): VerifyResult {
  return verifyImage(sys, file, sys.readFile(file), options);
}

/** The signature lines shared by verify and inspect. */
export function signatureLines(s: SignatureReport): string[] {
  const lines: string[] = [];
  const first = s.signatures[0];
  if (first) {
    lines.push(
      `signer: ${first.signer?.subject ?? '(certificate not included)'} (issuer ${first.signerIssuer}, serial ${first.signerSerial})`,
    );
    lines.push(
      `signatures: ${s.signatures.length}${s.signatures.length > 1 ? ' (the kernel checks only the first)' : ''}`,
    );
    lines.push(`certificates: ${first.certificates.map((c) => commonName(c.subject)).join('; ') || 'none'}`);
  }
  if (s.imageDigest)
    lines.push(
      `image digest: ${s.digestAlgorithm} ${s.imageDigest}${s.digestMatches === undefined ? '' : s.digestMatches ? ' (matches the signed digest)' : ''}`,
    );
  if (s.signedDigest && !s.digestMatches)
    lines.push(`signed digest: ${s.digestAlgorithm} ${s.signedDigest} (differs)`);
  if (s.signatureValid !== undefined) lines.push(`signature: ${s.signatureValid ? 'valid' : 'INVALID'}`);
  lines.push(`verdict: ${s.verdict}: ${s.reason}`);
  return lines;
}

export function kernelLine(k: KernelVerdict): string {
  return `the running kernel will accept this image: ${k.answer}, because ${k.because}${k.errno ? ` (expect ${k.errno})` : ''}`;
}

export function formatVerify(r: VerifyResult): string {
  return `${r.file}:\n${[...signatureLines(r.signature), `trust: ${r.trustSources.join('; ') || 'none'}`, kernelLine(r.kernel)].map((l) => `  ${l}`).join('\n')}\n`;
}
