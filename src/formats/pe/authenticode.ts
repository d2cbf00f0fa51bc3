// The Authenticode signatures of a PE image: the Attribute Certificate Table's WIN_CERTIFICATE entries
// (PE Format, "The Attribute Certificate Table (Image Only)") and the PKCS#7 SignedData each one holds
// (RFC 2315 / RFC 5652), whose content is an SpcIndirectDataContent with the image digest (Microsoft,
// "Windows Authenticode Portable Executable Signature Format"). The DER is decoded by @peculiar/asn1-schema
// with the @peculiar/asn1-cms, asn1-x509 and asn1-rsa schemas; certificates by node:crypto's X509Certificate.
import { X509Certificate } from 'node:crypto';
import { Attribute, ContentInfo, id_signedData, SignedData } from '@peculiar/asn1-cms';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import type { Certificate } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { slice } from '../../binary/bounds.js';
import { FormatError, KexecError } from '../../errors.js';
import { WinCertificate } from './pe.js';

/** WIN_CERTIFICATE wRevision the kernel requires (verify_pefile.c: WIN_CERT_REVISION_2_0). */
export const WIN_CERT_REVISION_2_0 = 0x0200;
/** WIN_CERTIFICATE entries start on 8-byte boundaries (PE Format, "The Attribute Certificate Table"). */
export const WIN_CERT_ALIGN = 8;
/** At most this many entries are read (a bound on time; real images have one or two). */
export const MAX_WIN_CERTIFICATES = 16;
/** SPC_INDIRECT_DATA_OBJID (Authenticode_PE.docx, "Authenticode-Specific Structures"). */
export const SPC_INDIRECT_DATA_OID = '1.3.6.1.4.1.311.2.1.4';
/** PKCS#9 messageDigest attribute (RFC 2985 / RFC 5652 section 11.2). */
export const MESSAGE_DIGEST_OID = '1.2.840.113549.1.9.4';

/** Digest algorithm OIDs (RFC 3279, RFC 5754) to node:crypto hash names. */
export const DIGEST_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/**
 * SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }
 * (Authenticode_PE.docx). `data` names the PE image (SpcPeImageData); only the digest matters here.
 */
export class SpcIndirectDataContent {
  data: ArrayBuffer = new ArrayBuffer(0);
  messageDigest: DigestInfo = new DigestInfo();
}
AsnProp({ type: AsnPropTypes.Any })(SpcIndirectDataContent.prototype, 'data');
AsnProp({ type: DigestInfo })(SpcIndirectDataContent.prototype, 'messageDigest');

/** SignedAttributes ::= SET SIZE (1..MAX) OF Attribute (RFC 5652 section 5.3), as a SET for serializing. */
export class SignedAttributeSet extends AsnArray<Attribute> {}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(SignedAttributeSet);

/** A signature in the PE image is malformed (bad WIN_CERTIFICATE or PKCS#7). */
export class SignatureFormatError extends FormatError {
  static override readonly code = 'E_SIGNATURE_FORMAT';
}

export interface CertInfo {
  subject: string;
  issuer: string;
  serial: string;
  /** SHA-256 of the DER certificate, hex. */
  fingerprint256: string;
  der: Uint8Array;
}

export interface AuthenticodeSignature {
  /** Position in the certificate table; the kernel verifies entry 0 only (verify_pefile.c). */
  index: number;
  offset: number;
  length: number;
  revision: number;
  certType: number;
  /** Hash of the image digest, node name (e.g. 'sha256'), or the OID when unknown. */
  digestAlgorithm: string;
  /** The image digest the signature vouches for, hex. */
  signedDigest: string;
  /** DER of the SpcIndirectDataContent's contents (what the messageDigest attribute hashes). */
  content: Uint8Array;
  signer: CertInfo | undefined;
  /** The signer's issuer as written in SignerInfo (also when the certificate is absent). */
  signerIssuer: string;
  signerSerial: string;
  certificates: CertInfo[];
  signerDigestAlgorithm: string;
  signatureAlgorithm: string;
  /** The signed attributes re-tagged as SET OF (what the signature covers), absent if none. */
  signedAttrs: Uint8Array | undefined;
  /** The messageDigest signed attribute, hex. */
  messageDigest: string | undefined;
  signature: Uint8Array;
}

export function hex(data: ArrayBuffer | Uint8Array): string {
  return Buffer.from(data instanceof Uint8Array ? data : new Uint8Array(data)).toString('hex');
}

function certInfo(cert: Certificate): CertInfo {
  const der = new Uint8Array(AsnConvert.serialize(cert));
  const x = new X509Certificate(der);
  return {
    subject: oneLine(x.subject),
    issuer: oneLine(x.issuer),
    serial: x.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    fingerprint256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    der,
  };
}

/** node's X509Certificate.subject is "CN=a\nO=b": one line, "CN=a, O=b". */
export function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** The common name of a one-line DN, else the whole DN. */
export function commonName(dn: string): string {
  return /(?:^|, )CN=([^,]+)/.exec(dn)?.[1] ?? dn;
}

function serialHex(serial: ArrayBuffer): string {
  return hex(serial).replace(/^(00)+(?=.)/, '');
}

/** Length of the DER header (tag and length octets) of the element at data[0], by asn1js. */
function derHeaderLength(data: Uint8Array, what: string): number {
  const r = asn1js.fromBER(data);
  if (r.offset === -1) throw sigError(`${what} is not DER (${r.result.error})`);
  return r.result.idBlock.blockLength + r.result.lenBlock.blockLength;
}

function sigError(message: string, offset?: number, cause?: unknown): SignatureFormatError {
  return new SignatureFormatError(`pkcs7: ${message}`, 'pkcs7', offset, {
    hint: 'the PE signature is corrupt: re-sign the image (sbsign) or use an unmodified one',
    cause,
  });
}

/** Decode one PKCS#7 SignedData holding an Authenticode SpcIndirectDataContent. */
export function parsePkcs7(
  der: Uint8Array,
  at = 0,
): Omit<AuthenticodeSignature, 'index' | 'offset' | 'length' | 'revision' | 'certType'> {
  // asn1-schema and node:crypto throw plain Errors on odd input (a bad OID string, a certificate node
  // cannot load): any of them is a malformed signature, typed.
  try {
    return decodePkcs7(der, at);
  } catch (e) {
    if (e instanceof KexecError) throw e;
    throw sigError(`malformed PKCS#7 (${(e as Error).message})`, at, e);
  }
}

function decodePkcs7(der: Uint8Array, at: number): ReturnType<typeof parsePkcs7> {
  let signed: SignedData;
  try {
    const info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== id_signedData)
      throw sigError(`content type ${info.contentType} is not signedData`, at);
    signed = AsnConvert.parse(info.content, SignedData);
  } catch (e) {
    if (e instanceof KexecError) throw e;
    throw sigError(`not a DER PKCS#7 SignedData (${(e as Error).message})`, at, e);
  }
  const encap = signed.encapContentInfo;
  if (encap.eContentType !== SPC_INDIRECT_DATA_OID)
    throw sigError(
      `content ${encap.eContentType} is not SpcIndirectDataContent (${SPC_INDIRECT_DATA_OID})`,
      at,
    );
  const raw = encap.eContent?.any ?? encap.eContent?.single?.buffer;
  if (raw === undefined) throw sigError('SignedData has no content', at);
  const rawBytes = new Uint8Array(raw);
  let spc: SpcIndirectDataContent;
  let certificates: CertInfo[];
  try {
    spc = AsnConvert.parse(rawBytes, SpcIndirectDataContent);
    certificates = (signed.certificates ?? []).flatMap((c) =>
      c.certificate ? [certInfo(c.certificate)] : [],
    );
  } catch (e) {
    throw sigError(`bad SpcIndirectDataContent or certificate (${(e as Error).message})`, at, e);
  }
  const content = rawBytes.subarray(derHeaderLength(rawBytes, 'SpcIndirectDataContent'));
  const si = signed.signerInfos[0];
  if (si === undefined) throw sigError('SignedData has no SignerInfo', at);
  const ias = si.sid.issuerAndSerialNumber;
  const signerIssuer = ias ? AsnConvert.serialize(ias.issuer) : undefined;
  const signerSerial = ias ? serialHex(ias.serialNumber) : '';
  let signer: CertInfo | undefined;
  let issuerText = '';
  for (const c of signed.certificates ?? []) {
    if (!c.certificate || !signerIssuer) continue;
    const tbs = c.certificate.tbsCertificate;
    if (serialHex(tbs.serialNumber) !== signerSerial) continue;
    if (hex(AsnConvert.serialize(tbs.issuer)) !== hex(signerIssuer)) continue;
    signer = certInfo(c.certificate);
    issuerText = signer.issuer;
  }
  if (!signer && signerIssuer) issuerText = `(DER ${hex(signerIssuer).slice(0, 32)}...)`;
  let messageDigest: string | undefined;
  for (const a of si.signedAttrs ?? [])
    if (a.attrType === MESSAGE_DIGEST_OID && a.attrValues[0]) {
      const v = new Uint8Array(a.attrValues[0]);
      messageDigest = hex(v.subarray(derHeaderLength(v, 'messageDigest')));
    }
  let signedAttrs: Uint8Array | undefined;
  if (si.signedAttrs) {
    // RFC 5652 section 5.4: the signature covers the DER of the attributes as a SET OF (tag 0x31), not
    // with the [0] IMPLICIT tag they carry inside SignerInfo. Each value is kept as it was read (Any),
    // in the order it was read, so the re-encoding is the signed bytes.
    signedAttrs = new Uint8Array(AsnConvert.serialize(new SignedAttributeSet(si.signedAttrs)));
  }
  const digestOid = spc.messageDigest.digestAlgorithm.algorithm;
  return {
    digestAlgorithm: DIGEST_OIDS[digestOid] ?? digestOid,
    signedDigest: hex(spc.messageDigest.digest.buffer),
    content,
    signer,
    signerIssuer: issuerText,
    signerSerial,
    certificates,
    signerDigestAlgorithm: DIGEST_OIDS[si.digestAlgorithm.algorithm] ?? si.digestAlgorithm.algorithm,
    signatureAlgorithm: si.signatureAlgorithm.algorithm,
    signedAttrs,
    messageDigest,
    signature: new Uint8Array(si.signature.buffer),
  };
}

/**
 * Every WIN_CERTIFICATE in the table at [certOffset, certOffset+certSize). Throws SignatureFormatError
 * (or TruncatedError) when a length lies; an entry of another type is reported with its fields only.
 */
export function parseAuthenticode(
  image: Uint8Array,
  certOffset: number,
  certSize: number,
): AuthenticodeSignature[] {
  const table = slice(image, certOffset, certSize, 'certificate table');
  const out: AuthenticodeSignature[] = [];
  let at = 0;
  while (at + WinCertificate.size <= table.byteLength) {
    if (out.length >= MAX_WIN_CERTIFICATES) break;
    const w = WinCertificate.decode(table, at);
    if (w.length < WinCertificate.size || at + w.length > table.byteLength)
      throw sigError(
        `WIN_CERTIFICATE ${out.length} dwLength ${w.length} does not fit the ${certSize}-byte certificate table`,
        certOffset + at,
      );
    const body = table.subarray(at + WinCertificate.size, at + w.length);
    const base = {
      index: out.length,
      offset: certOffset + at,
      length: w.length,
      revision: w.revision,
      certType: w.cert_type,
    };
    if (w.cert_type !== 0x0002)
      throw sigError(
        `WIN_CERTIFICATE ${out.length} type 0x${w.cert_type.toString(16)} is not PKCS#7 SignedData`,
        base.offset,
      );
    // The DER may be followed by alignment padding: parse exactly the outer SEQUENCE.
    out.push({ ...base, ...parsePkcs7(derElement(body, base.offset), base.offset) });
    at += Math.ceil(w.length / WIN_CERT_ALIGN) * WIN_CERT_ALIGN;
  }
  return out;
}

/** The first DER element of `data`, by asn1js: the alignment padding after it is dropped. */
function derElement(data: Uint8Array, at: number): Uint8Array {
  const r = asn1js.fromBER(data);
  if (r.offset === -1 || data[0] !== 0x30)
    throw sigError(`WIN_CERTIFICATE does not hold a DER SEQUENCE (${r.result.error || 'wrong tag'})`, at);
  return data.subarray(0, r.offset);
}
