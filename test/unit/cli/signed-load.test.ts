// --require-signed and lockdown-aware loading against FakeSys: the policy refuses before any syscall
// (no kexec_file_load, kexec_load, memfd_create or open of the kernel is recorded), -c under lockdown fails
// before kexec_load pointing to -s, the default path does not fall back to kexec_load, and -c -p too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { DB_VAR } from '../../../src/kexec/trust.js';
import { FakeSys, type FakeSysOptions } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildElf } from '../../helpers/build-elf.js';

const REAL = 'test/fixtures/real';
const KEYS = 'test/fixtures/sign';
const UNSIGNED = new Uint8Array(readFileSync(`${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64.unsigned`));
const DEBIAN = new Uint8Array(readFileSync(`${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64`));
const work = mkdtempSync(join(tmpdir(), 'kexec-ts-signed-load-'));
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
const TEST_DER = new Uint8Array(new X509Certificate(readFileSync(`${KEYS}/test-cert.pem`)).raw);
const IOMEM = '00100000-7ffdffff : System RAM\n  2b000000-3affffff : Crash kernel\n';
const LOCKDOWN = '/sys/kernel/security/lockdown';

/** The UEFI db holding the test certificate (EFI_SIGNATURE_LIST, UEFI 2.10 section 32.4.1). */
function dbWithTestCert(): Uint8Array {
  const entry = 16 + TEST_DER.length;
  const list = Buffer.alloc(28 + entry);
  Buffer.from('a159c0a5e494a74a87b5ab155c2bf072', 'hex').copy(list, 0);
  list.writeUInt32LE(list.length, 16);
  list.writeUInt32LE(0, 20);
  list.writeUInt32LE(entry, 24);
  Buffer.from(TEST_DER).copy(list, 28 + 16);
  return Buffer.concat([Buffer.from([7, 0, 0, 0]), list]);
}

function machine(files: Record<string, Uint8Array | string> = {}, extra: FakeSysOptions = {}): FakeSys {
  return new FakeSys({
    ...extra,
    files: {
      '/boot/ours': OURS,
      '/boot/unsigned': UNSIGNED,
      '/boot/debian': DEBIAN,
      '/boot/vmlinux': buildElf({ loads: 1 }).bytes,
      '/etc/test.pem': readFileSync(`${KEYS}/test-cert.pem`, 'utf8'),
      '/proc/cmdline': 'root=/dev/vda crashkernel=256M\n',
      '/proc/iomem': IOMEM,
      ...files,
    },
  });
}

async function run(sys: FakeSys, ...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, { sys, io });
  return { code, out: io.out, err: io.err };
}
const SYSCALLS = ['kexecFileLoad', 'kexecLoad', 'memfdFromBytes', 'openRead', 'reboot'];
const syscalls = (sys: FakeSys) => sys.calls.map((c) => c.name).filter((n) => SYSCALLS.includes(n));

describe('--require-signed', () => {
  it('refuses the unsigned kernel before any syscall', async () => {
    const sys = machine();
    const r = await run(sys, '--require-signed', '-l', '/boot/unsigned');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /--require-signed: \/boot\/unsigned is refused: unsigned/);
    assert.match(r.err, /sbsign/);
    assert.deepEqual(syscalls(sys), []);
  });

  it('refuses a Debian-signed kernel whose CA the machine does not trust, and -p too', async () => {
    for (const action of ['-l', '-p']) {
      const sys = machine();
      const r = await run(sys, '--require-signed', action, '/boot/debian');
      assert.notEqual(r.code, 0);
      assert.match(r.err, /untrusted: signed by Debian Secure Boot Signer 2022 - linux/);
      assert.deepEqual(syscalls(sys), []);
    }
  });

  it('refuses a flipped byte', async () => {
    const bad = new Uint8Array(OURS);
    bad[0x6000] = bad[0x6000]! ^ 1;
    const sys = machine({ '/boot/bad': bad });
    const r = await run(sys, '--require-signed', '--trust-cert', '/etc/test.pem', '-l', '/boot/bad');
    assert.match(r.err, /bad-digest/);
    assert.deepEqual(syscalls(sys), []);
  });

  it('loads our kernel when --trust-cert or the UEFI db trusts it', async () => {
    const a = machine();
    const r = await run(a, '--require-signed', '--trust-cert', '/etc/test.pem', '-l', '/boot/ours');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(syscalls(a), ['openRead', 'kexecFileLoad']);
    const b = machine({ [DB_VAR]: dbWithTestCert() });
    assert.equal((await run(b, '--require-signed', '-l', '/boot/ours')).code, 0);
    assert.ok(b.images.normal);
  });

  it('--trust-cert alone is a usage error', async () => {
    const r = await run(machine(), '--trust-cert', '/etc/test.pem', '-l', '/boot/ours');
    assert.equal(r.code, 1);
    assert.match(r.err, /--trust-cert is only used with --require-signed/);
  });
});

describe('lockdown-aware loading', () => {
  const locked = { [LOCKDOWN]: 'none [integrity] confidentiality\n' };

  it('-c under lockdown fails before kexec_load, saying why and pointing to -s', async () => {
    const sys = machine(locked);
    const r = await run(sys, '-c', '-l', '/boot/ours');
    assert.equal(r.code, 1);
    assert.match(r.err, /kexec_load \(-c\) is refused by the running kernel: lockdown is "integrity"/);
    assert.match(r.err, /-s/);
    assert.deepEqual(syscalls(sys), []);
  });

  it('kdump -c -p under lockdown fails clearly; -p with file load works', async () => {
    const sys = machine(locked);
    const r = await run(sys, '-c', '-p', '/boot/ours');
    assert.match(r.err, /kexec_load \(-c -p\) is refused .*lockdown/);
    assert.match(r.err, /-s -p/);
    assert.deepEqual(syscalls(sys), []);
    const ok = machine(locked);
    assert.equal((await run(ok, '-p', '/boot/ours')).code, 0);
    assert.ok(ok.images.crash);
  });

  it('the default path does not fall back to kexec_load under lockdown', async () => {
    const sys = machine(locked, { failures: { kexecFileLoad: 'EINVAL' } });
    const r = await run(sys, '-l', '/boot/ours');
    assert.notEqual(r.code, 0);
    assert.deepEqual(syscalls(sys), ['openRead', 'kexecFileLoad']);
    // Without lockdown the same failure falls back (kexec-tools' -a behaviour).
    const open = machine(
      { [LOCKDOWN]: '[none] integrity confidentiality\n' },
      { failures: { kexecFileLoad: 'EINVAL' } },
    );
    await run(open, '-l', '/boot/ours');
    assert.ok(syscalls(open).includes('kexecLoad'));
  });

  it('an ELF vmlinux (kexec_load only) under IMA kexec appraisal is refused before any syscall', async () => {
    const sys = machine({
      '/sys/kernel/security/ima/policy': 'appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig\n',
    });
    const r = await run(sys, '-l', '/boot/vmlinux');
    assert.equal(r.code, 1);
    assert.match(r.err, /only kexec_load can load, and kexec_load is refused: IMA appraises kexec images/);
    assert.deepEqual(syscalls(sys), []);
  });
});

describe('signature errnos from the kernel', () => {
  it('ENOKEY on the Debian kernel names its signer, its CA and what the machine trusts', async () => {
    const sys = machine(
      { '/sys/kernel/security/lockdown': 'none [integrity] confidentiality\n' },
      { failures: { kexecFileLoad: 'ENOKEY' } },
    );
    const r = await run(sys, '-s', '-l', '/boot/debian');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /kexec_file_load\(.*\) = ENOKEY/);
    assert.match(
      r.err,
      /\/boot\/debian is signed by CN=Debian Secure Boot Signer 2022 - linux \(issuer CN=Debian Secure Boot CA\)/,
    );
    assert.match(
      r.err,
      /no trusted key vouches for CN=Debian Secure Boot CA: add its certificate to the UEFI db or MOK/,
    );
    assert.match(r.err, /mokutil --import/);
  });

  it('ENODATA on the unsigned kernel says it is unsigned', async () => {
    const sys = machine({}, { failures: { kexecFileLoad: 'ENODATA' } });
    const r = await run(sys, '-s', '-l', '/boot/unsigned');
    assert.match(r.err, /\/boot\/unsigned: the image has no Authenticode signature/);
  });
});
