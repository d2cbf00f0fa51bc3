// Signed kernels under UEFI Secure Boot, in one QEMU guest and one kexec boot (issue 15, docs/signatures.md):
// OVMF's Secure Boot firmware with Debian's snakeoil vars (db = /usr/share/ovmf/PkKek-1-snakeoil.pem), the
// lab kernel re-signed with the snakeoil key so that OVMF boots it; the guest kernel locks itself down
// ("integrity") and loads the db into .platform. For each 6.12 kernel below, `kexec-ts verify` predicts
// the kernel's answer before the syscall, and kexec_file_load (-s) must agree:
//   ours      Debian's unsigned 6.12 signed by sbsign with the snakeoil key  -> loads; -e reaches it
//   unsigned  Debian's -unsigned 6.12                                       -> ENODATA
//   debian    Debian-signed 6.12 (Debian Secure Boot CA is not in db)       -> ENOKEY
//   other     signed by test/fixtures/sign's other key                      -> ENOKEY
//   flipped   ours with one byte flipped                                    -> EKEYREJECTED
// and kexec_load (-c) is refused by kexec-ts before the syscall; kexec-tools' -c shows the kernel refusing.
// Fails, never skips, when the lab cannot run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GuestConsole } from '../../src/lab/console.js';
import { type Guest, prepareLab, startGuest } from '../../src/lab/guest.js';
import {
  OVMF_SECBOOT_CODE,
  OVMF_SNAKEOIL_CERT,
  OVMF_SNAKEOIL_KEY,
  OVMF_SNAKEOIL_VARS,
} from '../../src/lab/qemu.js';

const REAL = 'test/fixtures/real';
const K612 = `${REAL}/vmlinuz-6.12.107+deb12-cloud-amd64`;
const CASES = ['unsigned', 'debian', 'other', 'flipped', 'ours'] as const;
const EXPECTED: Record<(typeof CASES)[number], string> = {
  unsigned: 'ENODATA',
  debian: 'ENOKEY',
  other: 'ENOKEY',
  flipped: 'EKEYREJECTED',
  ours: 'loaded',
};

describe('signed kernels under OVMF Secure Boot (QEMU lab)', { timeout: 1_800_000 }, () => {
  let guest: Guest;
  let c: GuestConsole;
  let work: string;

  before(async () => {
    const log = (l: string) => process.stderr.write(`lab: ${l}\n`);
    const { setup } = await prepareLab({ log });
    work = await mkdtemp(join(tmpdir(), 'kexec-ts-secboot-'));
    const w = (n: string) => join(work, n);
    execFileSync(
      'openssl',
      ['rsa', '-in', OVMF_SNAKEOIL_KEY, '-passin', 'pass:snakeoil', '-out', w('snakeoil.key')],
      {
        stdio: 'pipe',
      },
    );
    const sign = (key: string, cert: string, input: string, output: string) =>
      execFileSync('sbsign', ['--key', key, '--cert', cert, '--output', output, input], { stdio: 'pipe' });
    // The lab kernel is Debian-signed: remove that signature (sbsign would append a second one, which
    // the firmware and the kernel ignore), then sign with the snakeoil key OVMF's db holds.
    await copyFile(setup.vmlinuz, w('boot-kernel'));
    execFileSync('sbattach', ['--remove', w('boot-kernel')], { stdio: 'pipe' });
    sign(w('snakeoil.key'), OVMF_SNAKEOIL_CERT, w('boot-kernel'), w('boot-kernel.signed'));
    sign(w('snakeoil.key'), OVMF_SNAKEOIL_CERT, `${K612}.unsigned`, w('ours'));
    sign(
      'test/fixtures/sign/other-key.pem',
      'test/fixtures/sign/other-cert.pem',
      `${K612}.unsigned`,
      w('other'),
    );
    const flipped = new Uint8Array(await readFile(w('ours')));
    flipped[0x5000] = flipped[0x5000]! ^ 1;
    await writeFile(w('flipped'), flipped);
    // /sig/* in the guest: an extra newc archive made by cpio(1) from work/sig (the guest rootfs has no /sig).
    await mkdir(w('sig'));
    for (const [name, source] of Object.entries({
      ours: w('ours'),
      other: w('other'),
      flipped: w('flipped'),
    }))
      await rename(source, w(`sig/${name}`));
    await copyFile(`${K612}.unsigned`, w('sig/unsigned'));
    await copyFile(K612, w('sig/debian'));
    execFileSync('sh', ['-c', 'find sig | cpio --quiet -o -H newc > sig.cpio'], { cwd: work, stdio: 'pipe' });
    await copyFile(OVMF_SNAKEOIL_VARS, w('vars.fd'));
    guest = await startGuest({
      kernel: w('boot-kernel.signed'),
      secureBoot: { code: OVMF_SECBOOT_CODE, vars: w('vars.fd') },
      memoryMiB: 2048,
      extraInitrd: [w('sig.cpio')],
      readyTimeoutMs: 600_000,
      log,
    });
    c = guest.console;
    await c.run('dmesg -n 1');
  });
  after(async () => {
    if (c) process.stderr.write(`--- last console lines ---\n${c.tail(60)}\n`);
    await guest?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the guest booted under Secure Boot and locked itself down; the db key is in .platform', async () => {
    assert.match(c.transcript(), /secureboot: Secure boot enabled/);
    assert.match((await c.check('cat /sys/kernel/security/lockdown')).trim(), /\[integrity\]/);
    assert.match(
      await c.check('grep asymmetri /proc/keys'),
      /SnakeOil: 63b8d5ee5df87b9a2f08dde4dba1e606c854dadb/,
    );
    const doctor = await c.check('kexec-ts doctor --json');
    const sig = JSON.parse(doctor.slice(doctor.indexOf('{'))).checks.find(
      (x: { id: string }) => x.id === 'signature-enforcement',
    );
    assert.match(sig.detail, /^enforced: lockdown is "integrity"/);
  });

  for (const name of CASES) {
    it(`${name}: verify predicts what kexec_file_load does (${EXPECTED[name]})`, async () => {
      const v = await c.check(
        `kexec-ts verify --json /sig/${name} > /tmp/v.json; node -e "const j=require('/tmp/v.json');console.log('PREDICT',j.signature.verdict,j.kernel.answer.replace(' ','_'),j.kernel.errno||'-')"`,
        300_000,
      );
      const [, verdict, answer, errno] = /PREDICT (\S+) (\S+) (\S+)/.exec(v) ?? [];
      const load = await c.check(
        `kexec-ts -s -l /sig/${name} --append=console=ttyS0 2>/tmp/e; echo LOADRC $?; grep -o '= E[A-Z]*' /tmp/e; cat /tmp/e | head -2; kexec-ts -u`,
        300_000,
      );
      const rc = Number(/LOADRC (\d+)/.exec(load)?.[1]);
      const kernelErrno = /= (E[A-Z]+)/.exec(load)?.[1];
      process.stderr.write(
        `${name}: verify ${verdict}, predicts ${answer} ${errno}; kernel: rc ${rc} ${kernelErrno ?? ''}\n`,
      );
      if (EXPECTED[name] === 'loaded') {
        assert.equal(verdict, 'valid');
        assert.equal(answer, 'yes');
        assert.equal(rc, 0, load);
      } else {
        assert.equal(answer, 'no');
        assert.notEqual(rc, 0);
        assert.equal(kernelErrno, EXPECTED[name]);
        assert.equal(errno, kernelErrno, 'verify predicted the errno the kernel returned');
        assert.match(load, /hint: /);
      }
    });
  }

  it('kexec_load: kexec-ts -c refuses before the syscall; kexec-tools -c is refused by the kernel', async () => {
    const ours = await c.run('kexec-ts -c -l /sig/ours');
    assert.notEqual(ours.status, 0);
    assert.match(ours.output, /kexec_load \(-c\) is refused by the running kernel: lockdown is "integrity"/);
    assert.match(ours.output, /-s/);
    const theirs = await c.run(
      'kexec -c -l /sig/ours --append=console=ttyS0 >/dev/null 2>&1; echo KT $?; dmesg | grep -c "impossible to appraise"',
    );
    assert.match(theirs.output, /KT [1-9]/);
    assert.match(theirs.output, /^[1-9]/m);
  });

  it('our signed kernel loads and -e reaches it', async () => {
    await c.check('kexec-ts -s -l /sig/ours --initrd=/boot/initrd.img --append=console=ttyS0', 300_000);
    c.send('kexec-ts -e\n');
    await c.expect(/KEXEC-TS-LAB READY[^\n]*\n/, 600_000);
    assert.match(await c.check('uname -r'), /6\.12\.107\+deb12-cloud-amd64/);
  });
});
