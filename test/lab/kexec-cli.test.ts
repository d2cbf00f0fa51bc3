// The kexec-tools surface of kexec-ts on a real kernel, in one QEMU guest and a chain of kexec boots:
//   boot A (QEMU)  -> error cases, -S, -u, then kexec-ts -s -l ... -e
//   boot B          -> exact 1 KiB+ command line with quotes and --reuse-console; kexec-tools --reuse-cmdline -e
//   boot C          -> kexec-ts (default mode) --reuse-cmdline with the same arguments -e
//   boot D          -> same line as C (both tools build it alike); -p, -p -u, -S, then a crash
//   capture kernel  -> marker, crashkernel= dropped, elfcorehdr= added by the kernel, /proc/vmcore present
// Fails, never skips, when the lab cannot run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { GuestConsole } from '../../src/lab/console.js';
import { type Guest, startGuest } from '../../src/lab/guest.js';
import { makeChain } from '../../src/lab/guest-scripts.js';
import { MARK } from '../../src/lab/markers.js';

const BOOT_TIMEOUT = 300_000;
const LOAD_TIMEOUT = 180_000;
const tag = randomBytes(4).toString('hex');
// 1 KiB and more, with a quoted value holding spaces; console= comes from --reuse-console.
const PAD = `lab.pad=${'0123456789abcdef'.repeat(68)}`;
const LONG_APPEND = `crashkernel=256M lab.boot=B lab.tag=${tag} lab.q="quoted words, kept whole" ${PAD}`;
const MAKE_CHAIN = makeChain();
const KEXEC_TOOLS = '/sbin/kexec';

async function status(
  c: GuestConsole,
  cmd: string,
  timeout = LOAD_TIMEOUT,
): Promise<{ status: number; output: string }> {
  return c.run(cmd, timeout);
}

async function sysfs(c: GuestConsole, name: string): Promise<string> {
  return c.check(`cat /sys/kernel/${name}`);
}

describe('kexec-ts CLI on a real kernel (QEMU lab)', { timeout: 1_800_000 }, () => {
  let guest: Guest;
  let c: GuestConsole;
  let cmdlineB = '';
  let cmdlineC = '';

  before(async () => {
    guest = await startGuest({
      memoryMiB: 3072,
      append: 'BOOT_IMAGE=/boot/vmlinuz-lab lab.boot=A',
      log: (l) => process.stderr.write(`lab: ${l}\n`),
    });
    c = guest.console;
  });
  after(async () => {
    if (c) process.stderr.write(`--- last console lines ---\n${c.tail(60)}\n`);
    await guest?.close();
  });

  describe('boot A: nothing loaded, no crashkernel', () => {
    it('-S exits 0 for the crash image and for the normal image (-S -l)', async () => {
      assert.equal((await status(c, 'kexec-ts -S')).status, 0);
      assert.equal((await status(c, 'kexec-ts -S -l')).status, 0);
      assert.deepEqual(JSON.parse((await status(c, 'kexec-ts -S --json')).output), {
        file: '/sys/kernel/kexec_crash_loaded',
        loaded: false,
      });
    });

    it('doctor: this kernel can kexec but cannot kdump (no crashkernel=)', async () => {
      const report = JSON.parse((await c.check('kexec-ts doctor --json')).trim());
      assert.equal(report.kernelRelease, guest.build.kernelRelease);
      assert.equal(report.kexec.answer, 'yes', report.kexec.reason);
      assert.equal(report.kdump.answer, 'no');
      assert.match(report.kdump.reason, /crashkernel/);
    });

    it('-e with nothing loaded fails before touching the network', async () => {
      await c.check('insmod /lib/modules/$(uname -r)/kernel/drivers/net/dummy.ko && ip link set dummy0 up');
      assert.match(await c.check('ip -o link show dummy0'), /[<,]UP[,>]/);
      const r = await status(c, 'kexec-ts -e');
      assert.equal(r.status, 1);
      assert.match(r.output, /Nothing has been loaded!/);
      assert.match(await c.check('ip -o link show dummy0'), /[<,]UP[,>]/, 'dummy0 must still be up');
    });

    it('a file that is not a kernel fails with a clear message and loads nothing', async () => {
      for (const cmd of ['kexec-ts -l /lab/blob', 'kexec-ts -s -l /etc/hostname']) {
        const r = await status(c, cmd);
        assert.equal(r.status, 255, cmd);
        assert.match(r.output, /Cannot determine the file type of \/(lab\/blob|etc\/hostname)/);
        assert.match(r.output, /hint: .*bzImage64: /);
      }
      assert.equal(await sysfs(c, 'kexec_loaded'), '0');
    });

    it('-p without a crashkernel reservation fails clearly', async () => {
      const r = await status(c, 'kexec-ts -p /boot/vmlinuz --initrd=/boot/capture.img');
      assert.equal(r.status, 1);
      assert.match(r.output, /Memory for crashkernel is not reserved/);
      assert.equal(await sysfs(c, 'kexec_crash_loaded'), '0');
    });

    it('an over-long command line is refused before the kernel is asked', async () => {
      const r = await status(
        c,
        `kexec-ts -l /boot/vmlinuz --append="$(head -c 3000 /dev/zero | tr '\\0' x)"`,
      );
      assert.equal(r.status, 1);
      assert.match(r.output, /command line is 3000 bytes; \/boot\/vmlinuz accepts at most 2047/);
      assert.equal(await sysfs(c, 'kexec_loaded'), '0');
    });

    it('-s -l loads (kexec_loaded 1, -S -l exits 1), -u unloads', async () => {
      await c.check(MAKE_CHAIN, LOAD_TIMEOUT);
      const load = `kexec-ts -s -l /boot/vmlinuz --initrd=/tmp/chain.img --reuse-console --append='${LONG_APPEND}'`;
      assert.equal((await status(c, load)).status, 0);
      assert.equal(await sysfs(c, 'kexec_loaded'), '1');
      assert.equal((await status(c, 'kexec-ts -S -l')).status, 1);
      assert.equal((await status(c, 'kexec-ts -u')).status, 0);
      assert.equal(await sysfs(c, 'kexec_loaded'), '0');
      assert.equal((await status(c, load)).status, 0);
      assert.equal(await sysfs(c, 'kexec_loaded'), '1');
    });

    it('-e reaches the second kernel', async () => {
      c.send('kexec-ts -e\n');
      const b = await c.waitReady(BOOT_TIMEOUT);
      assert.equal(b.boot, 2);
    });
  });

  describe('boot B: reached with kexec-ts -s -l ... -e', () => {
    it('sees exactly the command line asked for, console= carried by --reuse-console', async () => {
      cmdlineB = await c.check('cat /proc/cmdline');
      assert.ok(LONG_APPEND.length > 1024);
      assert.equal(cmdlineB, `${LONG_APPEND} console=ttyS0`);
    });

    it('has an intact initrd', async () => {
      assert.equal(await c.check('cat /lab/initrd-id'), guest.build.nonce);
      assert.equal((await c.check('sha256sum /lab/blob')).split(/\s+/)[0], guest.build.blobSha256);
    });

    it("Debian's kexec-tools: -s -l --reuse-cmdline --append=BOOT_IMAGE=/x, then -e", async () => {
      await c.check(MAKE_CHAIN, LOAD_TIMEOUT);
      await c.check(
        `${KEXEC_TOOLS} -s -l /boot/vmlinuz --initrd=/tmp/chain.img --reuse-cmdline --append=BOOT_IMAGE=/x`,
        LOAD_TIMEOUT,
      );
      c.send(`${KEXEC_TOOLS} -e\n`);
      assert.equal((await c.waitReady(BOOT_TIMEOUT)).boot, 3);
      cmdlineC = await c.check('cat /proc/cmdline');
      assert.equal(cmdlineC, `${cmdlineB} BOOT_IMAGE=/x`);
    });
  });

  describe('boot C: kexec-ts with the same arguments gives the same command line', () => {
    it('kexec-ts (default mode) -l --reuse-cmdline --append=BOOT_IMAGE=/x, then -e', async () => {
      await c.check(MAKE_CHAIN, LOAD_TIMEOUT);
      await c.check(
        'kexec-ts -l /boot/vmlinuz --initrd=/tmp/chain.img --reuse-cmdline --append=BOOT_IMAGE=/x',
        LOAD_TIMEOUT,
      );
      c.send('kexec-ts -e\n');
      assert.equal((await c.waitReady(BOOT_TIMEOUT)).boot, 4);
      // Reusing drops the old BOOT_IMAGE= and appends the new one: the rule is idempotent, so the line
      // kexec-ts built from C's equals the one kexec-tools built from B's.
      assert.equal(await c.check('cat /proc/cmdline'), cmdlineC);
    });
  });

  describe('boot D: crash kernel', () => {
    const crashLoad = `kexec-ts -p /boot/vmlinuz --initrd=/boot/capture.img --reuse-cmdline --append='lab.capture=${tag} irqpoll nr_cpus=1 reset_devices'`;

    it('-p loads the crash kernel into the reservation; -S exits 1', async () => {
      assert.equal(await sysfs(c, 'kexec_crash_size'), String(256 * 2 ** 20));
      const report = JSON.parse((await c.check('kexec-ts doctor --json')).trim());
      assert.equal(report.kdump.answer, 'yes', report.kdump.reason);
      assert.equal((await status(c, crashLoad)).status, 0);
      assert.equal(await sysfs(c, 'kexec_crash_loaded'), '1');
      assert.equal((await status(c, 'kexec-ts -S')).status, 1);
    });

    it('-p -u unloads it; -S exits 0', async () => {
      assert.equal((await status(c, 'kexec-ts -p -u')).status, 0);
      assert.equal(await sysfs(c, 'kexec_crash_loaded'), '0');
      assert.equal((await status(c, 'kexec-ts -S')).status, 0);
    });

    it('a panic boots the capture kernel, which sees /proc/vmcore', async () => {
      assert.equal((await status(c, crashLoad)).status, 0);
      c.send('echo c > /proc/sysrq-trigger\n');
      await c.expect(MARK.capture, BOOT_TIMEOUT);
      const vm = await c.expect(new RegExp(`${MARK.vmcore} (\\w+)`), 60_000);
      assert.equal(vm.match[1], 'present');
      const ready = await c.waitReady(BOOT_TIMEOUT);
      assert.ok(ready.boot >= 5);
      const line = await c.check('cat /proc/cmdline');
      assert.match(line, new RegExp(`lab\\.capture=${tag}`));
      assert.doesNotMatch(line, /crashkernel=/, '--reuse-cmdline with -p drops crashkernel=');
      assert.match(line, /elfcorehdr=/, 'the kernel passes the ELF core header address');
    });
  });
});
