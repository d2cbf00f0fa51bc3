// SHA256SUMS (Debian's `HEX  ./path` lists, written here by the real sha256sum tool) and the SHA256 field
// of bookworm's real InRelease (apt's copy, test/fixtures/debian/bookworm_InRelease): the entry for the
// installer's SHA256SUMS, mismatches and missing entries as typed errors naming both digests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SignatureError, verifyInRelease } from '../../../src/formats/checksums/inrelease.js';
import {
  ChecksumMismatchError,
  ChecksumMissingError,
  checkSha256,
  parseReleaseSha256,
  parseSha256Sums,
} from '../../../src/formats/checksums/sha256sums.js';

const root = new URL('../../../../', import.meta.url);
const inRelease = readFileSync(new URL('test/fixtures/debian/bookworm_InRelease', root), 'utf8');

test('bookworm InRelease lists the amd64 installer SHA256SUMS with its hash and size', () => {
  const list = parseReleaseSha256(inRelease, 'bookworm InRelease');
  const entry = list.get('main/installer-amd64/current/images/SHA256SUMS');
  // The line as apt stored it: " 8e0a94d8...  78509 main/installer-amd64/current/images/SHA256SUMS"
  const line = inRelease
    .split('\n')
    .filter((l) => l.endsWith(' main/installer-amd64/current/images/SHA256SUMS'))
    .find((l) => /^ [0-9a-f]{64} /.test(l));
  assert.ok(line !== undefined);
  const [hex, size] = line.trim().split(/\s+/);
  assert.deepEqual(entry, { sha256: hex, size: Number(size) });
  // MD5 lines (32 hex digits) are not taken as SHA256 ones.
  for (const e of list.values()) assert.match(e.sha256, /^[0-9a-f]{64}$/);
  assert.ok(list.size > 100);
});

test('sha256sum-written ./path lists: match, flipped byte, missing entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sums-'));
  try {
    const data = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
    writeFileSync(join(dir, 'netboot.tar.gz'), data);
    const text = execFileSync('sha256sum', ['./netboot.tar.gz'], { cwd: dir, encoding: 'utf8' });
    const list = parseSha256Sums(text);
    const good = text.split(' ')[0] as string;
    assert.equal(checkSha256(list, './netboot.tar.gz', data, 'SHA256SUMS'), good);
    const bad = data.slice();
    bad[100] = (bad[100] as number) ^ 1;
    assert.throws(
      () => checkSha256(list, 'netboot.tar.gz', bad, 'SHA256SUMS'),
      (e: unknown) =>
        e instanceof ChecksumMismatchError &&
        e.code === 'E_CHECKSUM_MISMATCH' &&
        e.expected === good &&
        e.actual !== good &&
        e.message.includes(good) &&
        e.message.includes(e.actual) &&
        e.message.includes('netboot.tar.gz'),
    );
    assert.throws(
      () => checkSha256(list, 'mini.iso', data, 'SHA256SUMS'),
      (e: unknown) => e instanceof ChecksumMissingError && e.toJSON()['file'] === 'mini.iso',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed lines are FormatErrors, not silently skipped', () => {
  assert.throws(() => parseSha256Sums('abc  ./x\n'), { code: 'E_FORMAT' });
  assert.throws(() => parseReleaseSha256('SHA256:\n deadbeef 12 main/x\n'), { code: 'E_FORMAT' });
});

test('bookworm InRelease verifies against debian-archive-keyring; a changed hash or foreign key fails', async () => {
  const keyring = new Uint8Array(
    readFileSync(new URL('test/fixtures/debian/debian-archive-keyring.gpg', root)),
  );
  const signed = await verifyInRelease(inRelease, keyring, 'bookworm InRelease');
  const entry = parseReleaseSha256(signed).get('main/installer-amd64/current/images/SHA256SUMS');
  assert.equal(
    entry?.sha256,
    parseReleaseSha256(inRelease).get('main/installer-amd64/current/images/SHA256SUMS')?.sha256,
  );
  const target = entry?.sha256 as string;
  const tampered = inRelease.replace(target, `${target.slice(0, 63)}${target.endsWith('0') ? '1' : '0'}`);
  await assert.rejects(verifyInRelease(tampered, keyring, 'bookworm InRelease'), (e: unknown) => {
    return (
      e instanceof SignatureError &&
      e.code === 'E_OPENPGP_SIGNATURE' &&
      e.message.includes('bookworm InRelease')
    );
  });
  const body = inRelease.slice(
    inRelease.indexOf('\n\n') + 2,
    inRelease.indexOf('-----BEGIN PGP SIGNATURE-----'),
  );
  await assert.rejects(verifyInRelease(body, keyring), SignatureError);
});
