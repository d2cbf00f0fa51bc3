// Debian's InRelease: a clearsigned Release file. Its signature is checked with openpgp.js (v5, which
// runs on Node 18) against an archive keyring (binary, as /usr/share/keyrings/debian-archive-keyring.gpg
// ships it), and only the signed text is returned, so nothing outside the signature is ever trusted.
import * as openpgp from 'openpgp';
import { KexecError } from '../../errors.js';

/** The InRelease signature is missing, malformed, or made by a key that is not in the keyring. */
export class SignatureError extends KexecError {
  static override readonly code = 'E_OPENPGP_SIGNATURE';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`verify OpenPGP signature of ${file}: ${reason}`, {
      hint: 'check --keyring (default /usr/share/keyrings/debian-archive-keyring.gpg) and the mirror; nothing was loaded',
    });
  }
}

/** Verifies a clearsigned InRelease with the keys in `keyring` and returns the signed Release text. */
export async function verifyInRelease(
  text: string,
  keyring: Uint8Array,
  file = 'InRelease',
): Promise<string> {
  let message: openpgp.CleartextMessage;
  let keys: openpgp.Key[];
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (e) {
    throw new SignatureError(file, `not a clearsigned message (${(e as Error).message})`);
  }
  try {
    keys = await openpgp.readKeys({ binaryKeys: keyring });
  } catch (e) {
    throw new SignatureError(file, `unreadable keyring (${(e as Error).message})`);
  }
  const result = await openpgp.verify({ message, verificationKeys: keys, expectSigned: false });
  let good = false;
  const reasons: string[] = [];
  for (const s of result.signatures) {
    try {
      await s.verified;
      good = true;
    } catch (e) {
      reasons.push(`key ${s.keyID.toHex()}: ${(e as Error).message}`);
    }
  }
  if (!good) throw new SignatureError(file, reasons.length > 0 ? reasons.join('; ') : 'no signature');
  return result.data as string;
}
