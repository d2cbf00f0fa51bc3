// `kexec-ts verify` end to end against FakeSys machine states: --cert, --keyring, --json, the UEFI db /
// dbx and MokListRT read from efivarfs, /proc/keys, and the "will the running kernel accept it" answer
// under lockdown, KEXEC_SIG_FORCE, IMA appraisal and none. Images: Debian's signed kernel and its
// unsigned twin, re-signed by sbsign with test/fixtures/sign's key.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { main } from '../../../src/cli/main.js';
import { DB_VAR, DBX_VAR, MOKLIST_VAR, parseProcKeys } from '../../../src/kexec/trust.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';

const REAL = 'test/fixtures/real';
const KEYS = 'test/fixtures/sign';
const DEBIAN = new Uint8Array(readFileSync(`${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64`));
const UNSIGNED = new Uint8Array(readFileSync(`${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64.unsigned`));
const work = mkdtempSync(join(tmpdir(), 'kexec-ts-verify-'));
after(() => rmSync(work, { recursive: true, force: true }));
execFileSync('sbsign', [
  '--key',
  `${KEYS}/test-key.pem`,
  '--cert',
  `${KEYS}/test-cert.pem`,
  '--output',
  join(work, 'ours'),
  `${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64.unsigned`,
]);
const OURS = new Uint8Array(readFileSync(join(work, 'ours')));
const TEST_PEM = readFileSync(`${KEYS}/test-cert.pem`, 'utf8');
const OTHER_PEM = readFileSync(`${KEYS}/other-cert.pem`, 'utf8');
const TEST_DER = new Uint8Array(new X509Certificate(TEST_PEM).raw);

/** EFI_SIGNATURE_LIST bytes (UEFI 2.10 section 32.4.1) after the 4 efivarfs attribute bytes. */
function sigList(typeGuid: string, entries: Uint8Array[]): Uint8Array {
  const size = 16 + Math.max(...entries.map((e) => e.length));
  const out = Buffer.alloc(28 + size * entries.length);
  Buffer.from(typeGuid, 'hex').copy(out, 0);
  out.writeUInt32LE(out.length, 16);
  out.writeUInt32LE(0, 20);
  out.writeUInt32LE(size, 24);
  entries.forEach((e, i) => {
    Buffer.from(e).copy(out, 28 + i * size + 16);
  });
  return out;
}
const efivar = (...lists: Uint8Array[]) => Buffer.concat([Buffer.from([7, 0, 0, 0]), ...lists]);
const X509 = 'a159c0a5e494a74a87b5ab155c2bf072';
const SHA256 = '2616c4c14c509240aca941f936934328';

/** The Debian Secure Boot CA's key id, as openssl reads it from the signer's AuthorityKeyIdentifier. */
function debianCaKeyId(): string {
  const p7 = join(work, 'deb.p7');
  const pe = DEBIAN;
  const peAt = Buffer.from(pe.buffer, pe.byteOffset).readUInt32LE(0x3c);
  const certAt = Buffer.from(pe.buffer, pe.byteOffset).readUInt32LE(peAt + 24 + 112 + 32);
  const len = Buffer.from(pe.buffer, pe.byteOffset).readUInt32LE(certAt);
  execFileSync('dd', ['status=none', `of=${p7}`], { input: pe.subarray(certAt + 8, certAt + len) });
  const pem = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-in', p7, '-print_certs']);
  const ext = execFileSync('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier'], {
    input: pem,
    encoding: 'utf8',
  });
  return /([0-9A-F:]{59})/.exec(ext)![1]!.replace(/:/g, '').toLowerCase();
}

interface State {
  lockdown?: string;
  config?: string;
  ima?: string;
  files?: Record<string, Uint8Array | string>;
}
const CONFIG = 'CONFIG_KEXEC_FILE=y\nCONFIG_KEXEC_SIG=y\n# CONFIG_KEXEC_SIG_FORCE is not set\n';
function machine(s: State = {}): FakeSys {
  const files: Record<string, Uint8Array | string> = {
    '/boot/debian': DEBIAN,
    '/boot/unsigned': UNSIGNED,
    '/boot/ours': OURS,
    '/etc/test.pem': TEST_PEM,
    '/etc/other.pem': OTHER_PEM,
    '/etc/keys/a.pem': OTHER_PEM,
    '/etc/keys/b.der': TEST_DER,
    '/proc/config.gz': gzipSync(s.config ?? CONFIG),
    ...s.files,
  };
  if (s.lockdown) files['/sys/kernel/security/lockdown'] = `${s.lockdown}\n`;
  if (s.ima !== undefined) files['/sys/kernel/security/ima/policy'] = s.ima;
  return new FakeSys({ files, dirs: ['/sys/firmware/efi', '/etc/keys'] });
}

async function verify(sys: FakeSys, ...argv: string[]) {
  const io = captureIo();
  const status = await main(['verify', ...argv], { io, sys });
  return { status, out: io.out, err: io.err };
}

const LOCKED = { lockdown: 'none [integrity] confidentiality', ima: '' };
const KEYS_TEXT = (id: string) =>
  `0a1b2c3d I------     1 perm 1f010000     0     0 keyring   .platform: 1\n` +
  `1b2c3d4e I------     1 perm 1f030000     0     0 asymmetri Debian Secure Boot CA: ${id}: X509.rsa 4f3e2d1c []\n`;

describe('kexec-ts verify', () => {
  it('exits 0 for our sbsign-signed image with --cert, 1 with another certificate', async () => {
    const ok = await verify(machine(), '--cert', '/etc/test.pem', '/boot/ours');
    assert.equal(ok.status, 0, ok.out + ok.err);
    assert.match(ok.out, /signer: CN=kexec-ts test signing key/);
    assert.match(
      ok.out,
      /verdict: valid: signed by kexec-ts test signing key, trusted through --cert \/etc\/test.pem/,
    );
    const no = await verify(machine(), '--cert', '/etc/other.pem', '/boot/ours');
    assert.equal(no.status, 1);
    assert.match(no.out, /verdict: untrusted/);
  });

  it('--keyring DIR trusts every PEM/DER file in it', async () => {
    assert.equal((await verify(machine(), '--keyring', '/etc/keys', '/boot/ours')).status, 0);
  });

  it('--json carries the digests and the kernel answer', async () => {
    const r = await verify(machine(), '--json', '--cert', '/etc/test.pem', '/boot/debian');
    assert.equal(r.status, 1);
    const j = JSON.parse(r.out);
    assert.equal(j.trusted, false);
    assert.equal(j.signature.verdict, 'untrusted');
    assert.equal(j.signature.signatures[0].signer.subject, 'CN=Debian Secure Boot Signer 2022 - linux');
    assert.equal(j.signature.imageDigest, j.signature.signedDigest);
    assert.equal(j.kernel.answer, 'cannot tell');
  });

  it('trusts the UEFI db and MokListRT from efivarfs', async () => {
    const db = { [DB_VAR]: efivar(sigList(X509, [TEST_DER])) };
    const r = await verify(machine({ ...LOCKED, files: db }), '/boot/ours');
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /trusted through UEFI db \(kexec-ts test signing key\)/);
    assert.match(r.out, /the running kernel will accept this image: yes, because the signature is valid/);
    const mok = await verify(
      machine({ files: { [MOKLIST_VAR]: efivar(sigList(X509, [TEST_DER])) } }),
      '/boot/ours',
    );
    assert.equal(mok.status, 0);
    assert.match(mok.out, /MokListRT/);
  });

  it('under lockdown: unsigned is no (ENODATA), a Debian kernel without its CA is no (ENOKEY)', async () => {
    const db = {
      [DB_VAR]: efivar(sigList(X509, [TEST_DER])),
      '/proc/keys': KEYS_TEXT('00112233445566778899'),
    };
    const unsigned = await verify(machine({ ...LOCKED, files: db }), '/boot/unsigned');
    assert.equal(unsigned.status, 1);
    assert.match(
      unsigned.out,
      /will accept this image: no, because signatures are enforced \(lockdown is "integrity"\) and the image is unsigned \(expect ENODATA\)/,
    );
    const debian = await verify(machine({ ...LOCKED, files: db }), '/boot/debian');
    assert.match(debian.out, /will accept this image: no, .* \(expect ENOKEY\)/);
  });

  it('a kernel key with the Debian CA key id (/proc/keys) makes the Debian kernel acceptable', async () => {
    const files = { '/proc/keys': KEYS_TEXT(debianCaKeyId()) };
    const r = await verify(machine({ ...LOCKED, files }), '/boot/debian');
    assert.equal(r.status, 0, r.out);
    assert.match(
      r.out,
      /trusted through the kernel keyring kernel keys \(\/proc\/keys\) \(Debian Secure Boot CA: 6ccece/,
    );
  });

  it('an image digest in dbx is refused', async () => {
    const digest = JSON.parse((await verify(machine(), '--json', '/boot/ours')).out).signature
      .imageDigest as string;
    const files = {
      [DB_VAR]: efivar(sigList(X509, [TEST_DER])),
      [DBX_VAR]: efivar(sigList(SHA256, [Buffer.from(digest, 'hex')])),
    };
    const r = await verify(machine({ ...LOCKED, files }), '/boot/ours');
    assert.match(r.out, /will accept this image: no, .*in the UEFI dbx/);
  });

  it('no enforcement: the kernel accepts even an unsigned image; KEXEC_SIG_FORCE or IMA enforce', async () => {
    const open = { lockdown: '[none] integrity confidentiality', ima: 'measure func=KEXEC_KERNEL_CHECK\n' };
    assert.match(
      (await verify(machine(open), '/boot/unsigned')).out,
      /accept this image: yes, because signatures are not enforced/,
    );
    const force = await verify(
      machine({ ...open, config: `${CONFIG}CONFIG_KEXEC_SIG_FORCE=y\n` }),
      '/boot/unsigned',
    );
    assert.match(
      force.out,
      /accept this image: no, because signatures are enforced \(CONFIG_KEXEC_SIG_FORCE=y\)/,
    );
    const ima = await verify(
      machine({ ...open, ima: 'appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig\n' }),
      '/boot/unsigned',
    );
    assert.match(ima.out, /enforced \(the IMA policy appraises KEXEC_KERNEL_CHECK\)/);
  });

  it('a flipped byte: both digests, exit 1', async () => {
    const bad = new Uint8Array(OURS);
    bad[0x5000] = bad[0x5000]! ^ 0x80;
    const r = await verify(machine({ files: { '/boot/bad': bad } }), '--cert', '/etc/test.pem', '/boot/bad');
    assert.equal(r.status, 1);
    assert.match(
      r.out,
      /verdict: bad-digest: the image was changed after signing: its sha256 digest is [0-9a-f]{64}, the signature is for [0-9a-f]{64}/,
    );
    assert.match(r.out, /signed digest: sha256 [0-9a-f]{64} \(differs\)/);
  });

  it('a --cert that is not a certificate is a usage error', async () => {
    const r = await verify(
      machine({ files: { '/etc/bad.pem': 'hello' } }),
      '--cert',
      '/etc/bad.pem',
      '/boot/ours',
    );
    assert.equal(r.status, 1);
    assert.match(r.err, /\/etc\/bad.pem: not a PEM or DER X.509 certificate/);
  });

  it('parses /proc/keys asymmetric lines only', () => {
    assert.deepEqual(parseProcKeys(KEYS_TEXT('abcdef0123456789')), [
      { keyring: 'kernel keys (/proc/keys)', description: 'Debian Secure Boot CA: abcdef0123456789' },
    ]);
  });
});
