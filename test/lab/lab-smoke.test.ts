// One TCG boot of the lab guest: the image is intact, node runs, and Debian's kexec-tools can -l/-e into
// a second kernel whose console we observe. Independent of our CLI; it proves the lab itself works
// (and that its rootfs carries liblzo2 for `vmcore save -l`).
// Fails (never skips) when the lab cannot run: a missing QEMU is a broken test bed, not a pass.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Guest, startGuest } from '../../src/lab/guest.js';
import { openLiblzo2 } from '../../src/sys/liblzo2.js';

describe('lab smoke (QEMU guest)', { timeout: 900_000 }, () => {
  let guest: Guest;
  const marker = `KEXEC_TS_SMOKE=${randomBytes(4).toString('hex')}`;

  before(async () => {
    guest = await startGuest({ log: (l) => process.stderr.write(`lab: ${l}\n`) });
  });
  after(async () => {
    await guest?.close();
  });

  it('boots to READY', () => {
    assert.equal(guest.firstBoot.role, 'main');
    assert.ok(guest.firstBoot.kernelStart !== undefined, 'Linux version line seen');
  });

  it('runs the packaged kernel', async () => {
    assert.equal(await guest.console.check('uname -r'), guest.build.kernelRelease);
  });

  it('has an intact initramfs', async () => {
    assert.equal(await guest.console.check('cat /lab/initrd-id'), guest.build.nonce);
    assert.equal((await guest.console.check('sha256sum /lab/blob')).split(/\s+/)[0], guest.build.blobSha256);
  });

  it('runs node', async () => {
    assert.equal(await guest.console.check('node --version'), guest.build.nodeVersion);
  });

  it('reports nothing loaded', async () => {
    assert.equal(await guest.console.check('cat /sys/kernel/kexec_loaded'), '0');
  });

  it("loads liblzo2 (vmcore save -l's compressor) and packs a page to the host's bytes", async () => {
    // The rootfs (and so a capture kernel booted from it) carries the host's liblzo2.so.2: the guest's
    // installed kexec-ts binding compresses a text page, and its hex equals the host's.
    const page = 'kexec-ts lab '.repeat(316).slice(0, 4096);
    const lib = openLiblzo2();
    const out = new Uint8Array(8192);
    const want = `${lib.version} ${Buffer.from(out.subarray(0, lib.compress(Buffer.from(page), out))).toString('hex')}`;
    const script =
      "import { openLiblzo2 } from '/opt/kexec-ts/node_modules/kexec-ts/dist/src/sys/liblzo2.js'; " +
      'const l = openLiblzo2(); const o = new Uint8Array(8192); ' +
      `const n = l.compress(Buffer.from('kexec-ts lab '.repeat(316).slice(0, 4096)), o); ` +
      "console.log(l.version, Buffer.from(o.subarray(0, n)).toString('hex'));";
    assert.equal(await guest.console.check(`node --input-type=module -e "${script}"`, 60_000), want);
  });

  it("kexecs into a second kernel with Debian's kexec-tools", async () => {
    const c = guest.console;
    await c.check(
      `kexec -l /boot/vmlinuz --initrd=/boot/initrd.img --append="$(cat /proc/cmdline) ${marker}"`,
      120_000,
    );
    assert.equal(await c.check('cat /sys/kernel/kexec_loaded'), '1');
    c.send('kexec -e\n');
    const second = await c.waitReady(180_000);
    assert.equal(second.boot, 2);
    assert.equal(c.bootCount, 2);
    assert.match(await c.check('cat /proc/cmdline'), new RegExp(`${marker}$`));
    assert.equal(await c.check('cat /lab/initrd-id'), guest.build.nonce);
    assert.equal((await c.check('sha256sum /lab/blob')).split(/\s+/)[0], guest.build.blobSha256);
    assert.equal(await c.check('cat /sys/kernel/kexec_loaded'), '0');
  });
});
