// What the running kernel would trust for kexec_file_load, read through Sys: the UEFI db, dbx and MOK
// lists (efivarfs), and the asymmetric keys /proc/keys shows. kexec_file_load checks the signature
// against .builtin_trusted_keys and .secondary_trusted_keys, then the .platform keyring
// (kernel/kexec_file.c kexec_image_verify_sig / arch/x86/kernel/kexec-bzimage64.c), which
// security/integrity/platform_certs/load_uefi.c fills from db (and MokListRT where .machine is absent),
// while dbx entries go to .blacklist.
import { X509Certificate } from 'node:crypto';
import { slice } from '../binary/bounds.js';
import { bytes, defineStruct, u32 } from '../binary/struct.js';
import { KexecError } from '../errors.js';
import type { KeyringKey, TrustAnchor } from '../formats/pe/verify-signature.js';
import type { Sys } from '../sys/types.js';

export const EFIVARS = '/sys/firmware/efi/efivars';
/** EFI_IMAGE_SECURITY_DATABASE_GUID (UEFI spec 2.10, section 32.6.1): db and dbx. */
export const DB_VAR = `${EFIVARS}/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f`;
export const DBX_VAR = `${EFIVARS}/dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f`;
/** shim's MokListRT (shim MokManager.h SHIM_LOCK_GUID), the runtime copy of the MOK list. */
export const MOKLIST_VAR = `${EFIVARS}/MokListRT-605dab50-e046-4300-abb6-3dd810dd8b23`;
/** efivarfs files start with the variable's 4-byte attributes (Documentation/filesystems/efivarfs.rst). */
export const EFIVAR_ATTR_SIZE = 4;

/** EFI_SIGNATURE_LIST (UEFI spec 2.10, section 32.4.1). */
export const EfiSignatureList = defineStruct('efi_signature_list', {
  signature_type: bytes(0, 16),
  list_size: u32(16),
  header_size: u32(20),
  signature_size: u32(24),
});
/** EFI_SIGNATURE_DATA starts with a 16-byte SignatureOwner GUID. */
export const EFI_SIGNATURE_OWNER_SIZE = 16;
/** EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072, as stored (mixed endian). */
export const EFI_CERT_X509_GUID = 'a159c0a5e494a74a87b5ab155c2bf072';
/** EFI_CERT_SHA256_GUID c1c41626-504c-4092-aca9-41f936934328, as stored. */
export const EFI_CERT_SHA256_GUID = '2616c4c14c509240aca941f936934328';

export interface SignatureDb {
  certs: X509Certificate[];
  /** SHA-256 hashes, hex (in dbx: forbidden image digests). */
  sha256: string[];
}

/** Parse an efivarfs signature database (with its 4 attribute bytes). Throws KexecError on a lying length. */
export function parseSignatureDb(data: Uint8Array): SignatureDb {
  const out: SignatureDb = { certs: [], sha256: [] };
  let at = EFIVAR_ATTR_SIZE;
  while (at + EfiSignatureList.size <= data.byteLength) {
    const l = EfiSignatureList.decode(data, at);
    const list = slice(data, at, l.list_size, 'efi_signature_list');
    if (l.list_size < EfiSignatureList.size + l.header_size || l.signature_size <= EFI_SIGNATURE_OWNER_SIZE)
      break;
    const type = Buffer.from(l.signature_type).toString('hex');
    for (
      let e = EfiSignatureList.size + l.header_size;
      e + l.signature_size <= list.byteLength;
      e += l.signature_size
    ) {
      const value = list.subarray(e + EFI_SIGNATURE_OWNER_SIZE, e + l.signature_size);
      if (type === EFI_CERT_X509_GUID) {
        try {
          out.certs.push(new X509Certificate(value));
        } catch {
          // a malformed certificate in firmware: the kernel skips it too (load_uefi.c logs and goes on)
        }
      } else if (type === EFI_CERT_SHA256_GUID) out.sha256.push(Buffer.from(value).toString('hex'));
    }
    at += l.list_size;
  }
  return out;
}

function readDb(sys: Sys, path: string): SignatureDb | undefined {
  let data: Uint8Array;
  try {
    data = sys.readFile(path);
  } catch {
    return undefined;
  }
  try {
    return parseSignatureDb(data);
  } catch (e) {
    if (e instanceof KexecError) return undefined;
    throw e;
  }
}

/** Asymmetric keys in /proc/keys: "<id> <flags> <usage> <timeout> <perm> <uid> <gid> asymmetri DESC: ...". */
export function parseProcKeys(text: string): KeyringKey[] {
  const keys: KeyringKey[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[7] !== 'asymmetri') continue;
    const rest = f.slice(8).join(' ');
    const m = /^(.*?: [0-9a-f]{8,})(?::|$)/.exec(rest);
    if (m) keys.push({ keyring: 'kernel keys (/proc/keys)', description: m[1]! });
  }
  return keys;
}

export interface MachineTrust {
  anchors: TrustAnchor[];
  keys: KeyringKey[];
  /** dbx SHA-256 entries: image digests the firmware and the kernel's .blacklist refuse. */
  dbx: string[];
  /** What could be read, for the report ("UEFI db: 2 certificates", "no /proc/keys" ...). */
  sources: string[];
}

export function readMachineTrust(sys: Sys): MachineTrust {
  const t: MachineTrust = { anchors: [], keys: [], dbx: [], sources: [] };
  for (const [name, path] of [
    ['UEFI db', DB_VAR],
    ['MokListRT', MOKLIST_VAR],
  ] as const) {
    const db = readDb(sys, path);
    if (!db) {
      t.sources.push(`${name}: not readable (${path})`);
      continue;
    }
    t.sources.push(`${name}: ${db.certs.length} certificate(s)`);
    for (const cert of db.certs) t.anchors.push({ source: name, cert });
  }
  const dbx = readDb(sys, DBX_VAR);
  t.sources.push(dbx ? `UEFI dbx: ${dbx.sha256.length} hash(es)` : `UEFI dbx: not readable (${DBX_VAR})`);
  if (dbx) t.dbx = dbx.sha256;
  const keys = sys.readText('/proc/keys');
  if (keys === undefined) t.sources.push('kernel keyrings: /proc/keys not readable');
  else {
    t.keys = parseProcKeys(keys);
    t.sources.push(`kernel keyrings: ${t.keys.length} asymmetric key(s) visible in /proc/keys`);
  }
  return t;
}
