// Image formats on a real kernel, in one QEMU guest and two kexec boots:
//   boot 1 (QEMU)     -> inspect the UKI in the guest; gzip the running kernel; kexec-ts -s -l vmlinuz.gz; -e
//   boot 2 (gzip)     -> marker on /proc/cmdline; kexec-ts -s -l uki.efi with no --append/--initrd; -e
//   boot 3 (the UKI)  -> the UKI's .cmdline (marker) on /proc/cmdline, its .initrd (the lab's
//                        busybox capture image) running as the root filesystem
// The UKI is built on the host (test/helpers/build-pe.ts: the lab kernel as .linux) and reaches the
// guest as an extra cpio archive appended to the QEMU initrd (startGuest's extraInitrd).
// Fails, never skips, when the lab cannot run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeCpio } from '../../src/initramfs/index.js';
import type { GuestConsole } from '../../src/lab/console.js';
import { type Guest, prepareLab, startGuest } from '../../src/lab/guest.js';
import { makeChain } from '../../src/lab/guest-scripts.js';
import { MARK } from '../../src/lab/markers.js';
import { buildUki } from '../helpers/build-pe.js';

const BOOT_TIMEOUT = 300_000;
const LOAD_TIMEOUT = 180_000;
const tag = randomBytes(4).toString('hex');
const UKI_CMDLINE = `console=ttyS0 lab.uki=${tag}`;
const MAKE_CHAIN = makeChain();

describe('image formats on a real kernel (QEMU lab)', { timeout: 1_200_000 }, () => {
  let guest: Guest;
  let c: GuestConsole;
  let work: string;

  before(async () => {
    const log = (l: string) => process.stderr.write(`lab: ${l}\n`);
    const { setup, build } = await prepareLab({ log });
    work = await mkdtemp(join(tmpdir(), 'kexec-ts-formats-'));
    const uki = buildUki({
      linux: new Uint8Array(await readFile(setup.vmlinuz)),
      initrd: new Uint8Array(await readFile(build.captureImage)),
      cmdline: UKI_CMDLINE,
      osrel: 'PRETTY_NAME="kexec-ts lab"\nID=kexec-ts-lab\n',
      uname: setup.kernelRelease,
    });
    await writeFile(join(work, 'uki.efi'), uki);
    await writeCpio(join(work, 'uki.cpio'), [
      { kind: 'file', path: '/boot/uki.efi', source: join(work, 'uki.efi') },
    ]);
    guest = await startGuest({
      memoryMiB: 3072,
      append: 'lab.boot=1',
      extraInitrd: [join(work, 'uki.cpio')],
      log,
    });
    c = guest.console;
  });
  after(async () => {
    if (c) process.stderr.write(`--- last console lines ---\n${c.tail(60)}\n`);
    await guest?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('inspect in the guest describes the UKI and its parts', async () => {
    const info = JSON.parse(await c.check('kexec-ts inspect --json /boot/uki.efi', LOAD_TIMEOUT));
    assert.equal(info.type, 'uki');
    assert.equal(info.uki.cmdline, UKI_CMDLINE);
    assert.equal(info.uki.uname, guest.setup.kernelRelease);
    assert.equal(info.uki.prettyName, 'kexec-ts lab');
    assert.equal(info.uki.kernel.type, 'bzImage64');
    assert.equal(info.uki.initrd.hasInit, true);
  });

  it('a gzip-wrapped kernel loads with -s -l (memfd) and boots', async () => {
    await c.check('gzip -c /boot/vmlinuz > /tmp/vmlinuz.gz', LOAD_TIMEOUT);
    await c.check(MAKE_CHAIN, LOAD_TIMEOUT);
    const info = JSON.parse(await c.check('kexec-ts inspect --json /tmp/vmlinuz.gz', LOAD_TIMEOUT));
    assert.deepEqual([info.type, info.compression], ['bzImage64', 'gzip']);
    const r = await c.run(
      `kexec-ts -d -s -l /tmp/vmlinuz.gz --initrd=/tmp/chain.img --append='console=ttyS0 lab.gz=${tag}'`,
      LOAD_TIMEOUT,
    );
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /gzip-compressed file/);
    assert.equal(await c.check('cat /sys/kernel/kexec_loaded'), '1');
    c.send('kexec-ts -e\n');
    assert.equal((await c.waitReady(BOOT_TIMEOUT)).boot, 2);
    assert.equal(await c.check('cat /proc/cmdline'), `console=ttyS0 lab.gz=${tag}`);
  });

  it('a UKI loads through kexec_file_load with its own .cmdline and .initrd, and boots', async () => {
    const r = await c.run('kexec-ts -d -s -l /boot/uki.efi', LOAD_TIMEOUT);
    assert.equal(r.status, 0, r.output);
    // The kernel refuses the UKI itself (no "HdrS"), so kexec-ts unwraps it into memfds and retries.
    assert.match(r.output, /ENOEXEC.*unwrapping the uki into memfds/);
    assert.equal(await c.check('cat /sys/kernel/kexec_loaded'), '1');
    c.send('kexec-ts -e\n');
    await c.expect(new RegExp(MARK.capture), BOOT_TIMEOUT);
    const boot = await c.waitReady(BOOT_TIMEOUT);
    assert.equal(boot.boot, 3);
    assert.equal(
      boot.role,
      'capture',
      "the UKI's .initrd (the busybox capture image) is the root filesystem",
    );
    assert.equal(await c.check('cat /proc/cmdline'), UKI_CMDLINE);
  });
});
