// Authenticode on real files: Debian's signed 6.12 and 6.1 kernels, the unsigned twin Debian signed,
// a flipped byte, and images re-signed by sbsigntool (sbsign, sbattach) with the test keys in
// test/fixtures/sign. Expected values come from the files and from the real tools (sbverify, openssl),
// never from our own output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAuthenticode } from '../../../src/formats/pe/authenticode.js';
import { authenticodeDigest } from '../../../src/formats/pe/authenticode-digest.js';
import { parsePe } from '../../../src/formats/pe/pe.js';
import { verifyImageSignature } from '../../../src/formats/pe/verify-signature.js';

const REAL = 'test/fixtures/real';
const SIGNED = `${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64`;
const UNSIGNED = `${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64.unsigned`;
const SIGNED_61 = `${REAL}/vmlinuz-6.1.0-56-cloud-amd64`;
const KEYS = 'test/fixtures/sign';
const TEST_CERT = new X509Certificate(readFileSync(`${KEYS}/test-cert.pem`));
const OTHER_CERT = new X509Certificate(readFileSync(`${KEYS}/other-cert.pem`));

const work = mkdtempSync(join(tmpdir(), 'kexec-ts-authenticode-'));
after(() => rmSync(work, { recursive: true, force: true }));

const read = (p: string) => new Uint8Array(readFileSync(p));
function sbsign(input: string, key: string, output: string): string {
  execFileSync(
    'sbsign',
    ['--key', `${KEYS}/${key}-key.pem`, '--cert', `${KEYS}/${key}-cert.pem`, '--output', output, input],
    {
      stdio: 'pipe',
    },
  );
  return output;
}
/** sbverify's own answer: exit 0 when the first signature verifies against CERT. */
function sbverify(file: string, cert: string): boolean {
  try {
    execFileSync('sbverify', ['--cert', cert, file], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
/** The PKCS#7 of the first WIN_CERTIFICATE, and the certificates openssl finds in it. */
function opensslCerts(file: string): X509Certificate[] {
  const image = read(file);
  const pe = parsePe(image)!;
  const len = Buffer.from(image.subarray(pe.certOffset, pe.certOffset + 4)).readUInt32LE(0);
  const p7 = join(work, 'sig.p7');
  writeFileSync(p7, image.subarray(pe.certOffset + 8, pe.certOffset + len));
  const pem = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-in', p7, '-print_certs'], {
    encoding: 'utf8',
  });
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (b) => new X509Certificate(b),
  );
}

describe('Authenticode on Debian-signed kernels', () => {
  const image = read(SIGNED);
  const pe = parsePe(image)!;
  const [sig, ...rest] = parseAuthenticode(image, pe.certOffset, pe.certSize);

  it('reads the signer and issuer sbverify lists', () => {
    assert.equal(rest.length, 0);
    const list = execFileSync('sbverify', ['--list', SIGNED], { encoding: 'utf8' });
    assert.match(list, /subject: \/CN=Debian Secure Boot Signer 2022 - linux/);
    assert.match(list, /issuer: {2}\/CN=Debian Secure Boot CA/);
    assert.equal(sig!.signer?.subject, 'CN=Debian Secure Boot Signer 2022 - linux');
    assert.equal(sig!.signerIssuer, 'CN=Debian Secure Boot CA');
    assert.equal(sig!.digestAlgorithm, 'sha256');
    const [ossl] = opensslCerts(SIGNED);
    assert.equal(sig!.signer?.serial, ossl!.serialNumber.toLowerCase());
    assert.equal(sig!.signer?.fingerprint256, ossl!.fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('computes the digest Debian signed: the unsigned twin hashes to the signed digest', () => {
    const twin = read(UNSIGNED);
    assert.equal(parsePe(twin)!.signed, false);
    const twinDigest = Buffer.from(authenticodeDigest(twin, parsePe(twin)!, 'sha256')).toString('hex');
    assert.equal(twinDigest, sig!.signedDigest);
    assert.equal(Buffer.from(authenticodeDigest(image, pe, 'sha256')).toString('hex'), sig!.signedDigest);
  });

  it('verifies with the signer certificate openssl extracts, and is untrusted without it', () => {
    const [signer] = opensslCerts(SIGNED);
    const ok = verifyImageSignature(image, [{ source: 'test', cert: signer! }]);
    assert.equal(ok.verdict, 'valid', ok.reason);
    assert.equal(ok.signatureValid, true);
    assert.equal(ok.digestMatches, true);
    const no = verifyImageSignature(image, [{ source: 'test', cert: TEST_CERT }]);
    assert.equal(no.verdict, 'untrusted');
    assert.match(no.reason, /Debian Secure Boot Signer 2022 - linux \(issuer Debian Secure Boot CA\)/);
  });

  it('the 6.1 kernel carries its own valid signature too', () => {
    const r = verifyImageSignature(
      read(SIGNED_61),
      opensslCerts(SIGNED_61).map((cert) => ({ source: 't', cert })),
    );
    assert.equal(r.verdict, 'valid', r.reason);
  });

  it('the unsigned twin is unsigned', () => {
    const r = verifyImageSignature(read(UNSIGNED), [{ source: 't', cert: TEST_CERT }]);
    assert.equal(r.verdict, 'unsigned');
    assert.equal(r.signatures.length, 0);
  });

  it('a flipped byte in .text reports both digests, and sbverify agrees it is bad', () => {
    const bad = new Uint8Array(image);
    const text = 0x4000 + 12345; // inside the first section of the bzImage PE (its headers end at 0x4000)
    assert.ok(text < pe.certOffset);
    bad[text] = bad[text]! ^ 0x01;
    const file = join(work, 'flipped');
    writeFileSync(file, bad);
    const r = verifyImageSignature(
      bad,
      opensslCerts(SIGNED).map((cert) => ({ source: 't', cert })),
    );
    assert.equal(r.verdict, 'bad-digest');
    assert.equal(r.signedDigest, sig!.signedDigest);
    assert.notEqual(r.imageDigest, r.signedDigest);
    assert.match(r.reason, new RegExp(`${r.imageDigest}.*${r.signedDigest}`));
    const signer = join(work, 'debian-signer.pem');
    writeFileSync(signer, opensslCerts(SIGNED)[0]!.toString());
    assert.equal(sbverify(SIGNED, signer), true);
    assert.equal(sbverify(file, signer), false);
  });

  it('a change to the CheckSum field leaves the digest (and the signature) intact', () => {
    const b = new Uint8Array(image);
    const csum = pe.peOffset + 24 + 64;
    b[csum] = b[csum]! ^ 0xff;
    assert.equal(
      verifyImageSignature(
        b,
        opensslCerts(SIGNED).map((cert) => ({ source: 't', cert })),
      ).verdict,
      'valid',
    );
  });
});

describe('Authenticode on images signed by sbsign', () => {
  const mine = sbsign(UNSIGNED, 'test', join(work, 'test-signed'));

  it('our key: valid with its certificate, untrusted with another, like sbverify', () => {
    const image = read(mine);
    const ok = verifyImageSignature(image, [{ source: '--cert test', cert: TEST_CERT }]);
    assert.equal(ok.verdict, 'valid', ok.reason);
    assert.equal(ok.signatures[0]?.signer?.subject, 'CN=kexec-ts test signing key');
    assert.equal(sbverify(mine, `${KEYS}/test-cert.pem`), true);
    const other = verifyImageSignature(image, [{ source: '--cert other', cert: OTHER_CERT }]);
    assert.equal(other.verdict, 'untrusted');
    assert.equal(sbverify(mine, `${KEYS}/other-cert.pem`), false);
  });

  it('signed by another key: untrusted against ours', () => {
    const theirs = sbsign(UNSIGNED, 'other', join(work, 'other-signed'));
    assert.equal(verifyImageSignature(read(theirs), [{ source: 't', cert: TEST_CERT }]).verdict, 'untrusted');
  });

  it('sbsign over a Debian signature appends a second one; only the first counts', () => {
    const twice = sbsign(SIGNED, 'test', join(work, 'twice'));
    const image = read(twice);
    const r = verifyImageSignature(image, [{ source: 't', cert: TEST_CERT }]);
    assert.equal(r.signatures.length, 2);
    assert.equal(r.ignoredSignatures, 1);
    assert.equal(r.signatures[0]?.signer?.subject, 'CN=Debian Secure Boot Signer 2022 - linux');
    assert.equal(r.signatures[1]?.signer?.subject, 'CN=kexec-ts test signing key');
    assert.equal(r.verdict, 'untrusted');
    // sbattach --remove drops the signature table, sbsign then writes ours as the first.
    const stripped = join(work, 'stripped');
    writeFileSync(stripped, image);
    execFileSync('sbattach', ['--remove', stripped], { stdio: 'pipe' });
    execFileSync('sbattach', ['--remove', stripped], { stdio: 'pipe' });
    assert.equal(verifyImageSignature(read(stripped), []).verdict, 'unsigned');
    const resigned = sbsign(stripped, 'test', join(work, 'resigned'));
    const v = verifyImageSignature(read(resigned), [{ source: 't', cert: TEST_CERT }]);
    assert.equal(v.verdict, 'valid', v.reason);
    assert.equal(v.signatures.length, 1);
  });
});
