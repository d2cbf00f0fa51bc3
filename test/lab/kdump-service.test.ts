// The kdump service end to end in QEMU guests (crashkernel=512M at boot, 1536 MiB): per cycle the
// guest shrinks the reservation (/sys/kernel/kexec_crash_size) to the size under test, runs
// `kexec-ts kdump build-initrd`, `kdump load`, `kdump status` (exit 0), logs a marker and crashes by
// sysrq; the capture kernel's /init runs `kexec-ts kdump save` onto an ext2 virtio disk (TARGET=/dev/vda)
// and ACTION=reboot brings the guest back, where the next cycle starts. Two modes: NODE_FROM=root (the
// default: /init mounts /dev/vdb, an ext4 copy of the guest's own rootfs built on the host with
// `mke2fs -d`, and runs Node and kexec-ts from it by chroot) and NODE_FROM=initrd (both inside the
// capture image). Debian 6.1: root at its measured minimum (asserted) and one step below (recorded),
// initrd at its minimum; Debian 6.12: root at 128 MiB (Debian's default reservation). On the host, debugfs reads the saved
// dmesg.txt files off the disk. Results: <lab>/kdump-service/<kernel>/results.json. Fails, never skips.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { CpioEntry } from '../../src/formats/cpio/writer.js';
import { DEFAULT_APPEND } from '../../src/kdump/service/config.js';
import type { GuestConsole } from '../../src/lab/console.js';
import { writeCpio } from '../../src/lab/cpio.js';
import { ext4FromCpio } from '../../src/lab/disk.js';
import { type Guest, prepareLab, startGuest } from '../../src/lab/guest.js';
import { labDir } from '../../src/lab/paths.js';

const run = promisify(execFile);
/** The virtio disk chain, loaded in this order where the kernel has it as a module (6.12 builds most in). */
const MODULES = [
  'virtio/virtio_ring',
  'virtio/virtio',
  'virtio/virtio_pci_modern_dev',
  'virtio/virtio_pci_legacy_dev',
  'virtio/virtio_pci',
  'block/virtio_blk',
];
// The defaults everywhere else (NODE_FROM=root, APPEND, NODE_ARGS): what a real install gets.
const config = (
  names: string[],
) => `# lab: the dump goes to an ext2 virtio disk; Node and kexec-ts are on the ext4 disk /dev/vdb
KERNEL=/boot/vmlinuz
TARGET=/dev/vda
ROOT=/dev/vdb
ACTION=reboot
MODULES="${names.join(' ')}"
`;
type Mode = 'root' | 'initrd';
const CONFIG_OF: Record<Mode, string> = {
  root: '/etc/kexec-ts/kdump.conf',
  initrd: '/etc/kexec-ts/kdump-initrd.conf',
};
/** Measured smallest reservations (docs/kdump-service.md). */
const MIN: Record<Mode, number> = { root: 112, initrd: 288 };
/** Debian kdump-tools' default reservation (crashkernel=384M-:128M): the 6.12 cycle runs at it. */
const DEBIAN_DEFAULT = 128;
const tag = randomBytes(4).toString('hex');
const DISK_BYTES = 4 * 2 ** 30;

interface Cycle {
  mode: Mode;
  crashMiB: number;
  ok: boolean;
  initrdBytes?: number;
  unpackedBytes?: number;
  buildSeconds?: number;
  saveSeconds?: number;
  vmcoreBytes?: number;
  dir?: string;
  failure?: string;
}

function kdumpServiceSuite(
  name: string,
  kernelPackage: string | undefined,
  plan: (cycle: (mode: Mode, mib: number, strict: boolean) => Promise<Cycle>) => void,
): void {
  describe(`kexec-ts kdump service in a QEMU guest, ${name}`, { timeout: 3_600_000 }, () => {
    const dir = join(labDir(), 'kdump-service', name);
    const disk = join(dir, 'disk.img');
    const rootDisk = join(dir, 'root.img');
    let guest: Guest | undefined;
    let c: GuestConsole;
    let names: string[] = [];
    const cycles: Cycle[] = [];

    before(async () => {
      await mkdir(dir, { recursive: true });
      await rm(disk, { force: true });
      await writeFile(disk, '');
      await truncate(disk, DISK_BYTES);
      await run('mke2fs', ['-q', '-F', '-t', 'ext2', '-L', 'kdump', disk]);
      const pkg = kernelPackage === undefined ? {} : { kernelPackage };
      const { setup, build } = await prepareLab(pkg);
      assert.equal(build.compression, 'none', 'the root disk is built from the uncompressed rootfs cpio');
      await ext4FromCpio({ cpio: build.rootfs, output: rootDisk, sizeMiB: 512, label: 'kexec-ts-root' });
      const drivers = join(
        dirname(dirname(setup.vmlinuz)),
        'lib/modules',
        setup.kernelRelease,
        'kernel/drivers',
      );
      // The kernel's unpacker creates no parent directories: list them first.
      const mods = `/lib/modules/${setup.kernelRelease}/kernel/drivers`;
      const entries: CpioEntry[] = ['/etc/kexec-ts', '/lib/modules', `/lib/modules/${setup.kernelRelease}`]
        .concat(`/lib/modules/${setup.kernelRelease}/kernel`, mods, `${mods}/virtio`, `${mods}/block`)
        .map((path) => ({ kind: 'dir', path }));
      names = [];
      for (const m of MODULES) {
        const path = `${mods}/${m}.ko`;
        if (existsSync(join(drivers, `${m}.ko`)))
          entries.push({ kind: 'file', path, source: join(drivers, `${m}.ko`) });
        else if (existsSync(join(drivers, `${m}.ko.xz`))) {
          // Debian 6.12 ships modules xz-compressed; busybox insmod takes them plain.
          const { stdout } = await run('xz', ['-dc', join(drivers, `${m}.ko.xz`)], {
            encoding: 'buffer',
            maxBuffer: 64 << 20,
          });
          entries.push({ kind: 'bytes', path, data: new Uint8Array(stdout) });
        } else continue; // built in
        names.push(m.replace(/^.*\//, ''));
      }
      assert.ok(names.includes('virtio_blk'), names.join(' '));
      entries.push({ kind: 'bytes', path: CONFIG_OF.root, data: config(names) });
      entries.push({
        kind: 'bytes',
        path: CONFIG_OF.initrd,
        data: `${config(names)}NODE_FROM=initrd\nINITRD=/var/lib/kexec-ts/kdump-embedded.img\n`,
      });
      const extra = join(dir, 'extra.cpio');
      await writeCpio(extra, entries);
      guest = await startGuest({
        ...pkg,
        memoryMiB: 1536,
        append: 'crashkernel=512M',
        drives: [disk, rootDisk],
        extraInitrd: [extra],
        log: (l) => process.stderr.write(`lab: ${l}\n`),
      });
      c = guest.console;
    });
    after(async () => {
      if (c) process.stderr.write(`--- last console lines ---\n${c.tail(60)}\n`);
      await guest?.close();
      await writeFile(join(dir, 'results.json'), `${JSON.stringify(cycles, null, 2)}\n`);
      process.stderr.write(`kdump-service ${name} cycles: ${JSON.stringify(cycles)}\n`);
    });

    async function prepareMain(): Promise<void> {
      // Kernel messages on the console would land inside command output (JSON): keep them off it.
      await c.check('dmesg -n 1');
      await c.check(
        `for m in ${names.join(' ')}; do modprobe $m 2>/dev/null || insmod $(find /lib/modules -name $m.ko); done; i=0; while [ ! -b /dev/vda ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; [ -b /dev/vda ]`,
        120_000,
      );
    }

    /** One crash cycle with the reservation shrunk to `mib`; returns when the main kernel is back. */
    async function cycle(mode: Mode, mib: number, strict: boolean): Promise<Cycle> {
      const rec: Cycle = { mode, crashMiB: mib, ok: false };
      const cfg = `--config ${CONFIG_OF[mode]}`;
      cycles.push(rec);
      await prepareMain();
      // The guest's rootfs is RAM that already holds two copies of its image: the capture initramfs
      // gets its own tmpfs at INITRD's directory.
      await c.check(
        'mkdir -p /var/lib/kexec-ts && { mountpoint -q /var/lib/kexec-ts || mount -t tmpfs -o size=320m tmpfs /var/lib/kexec-ts; }',
      );
      await c.check(`echo ${mib * 2 ** 20} > /sys/kernel/kexec_crash_size`);
      assert.equal(await c.check('cat /sys/kernel/kexec_crash_size'), `${mib * 2 ** 20}`);
      const t0 = Date.now();
      const built = JSON.parse(await c.check(`kexec-ts kdump build-initrd --json ${cfg}`, 900_000));
      rec.buildSeconds = (Date.now() - t0) / 1000;
      rec.initrdBytes = built.bytes;
      rec.unpackedBytes = built.unpacked;
      assert.equal(built.nodeFrom, mode);
      if (mode === 'root') assert.equal(built.root, '/dev/vdb');
      const dry = JSON.parse(await c.check(`kexec-ts kdump load --dry-run --json ${cfg}`));
      assert.equal(dry.kernel, '/boot/vmlinuz');
      assert.doesNotMatch(dry.cmdline, /crashkernel=/);
      assert.match(dry.cmdline, new RegExp(`^console=ttyS0 .*${DEFAULT_APPEND}$`));
      const load = await c.run(`kexec-ts kdump load ${cfg}`, 300_000);
      if (load.status !== 0) {
        rec.failure = `load: ${load.output.trim()}`;
        if (strict) assert.fail(rec.failure);
        return rec;
      }
      const status = await c.run(`kexec-ts kdump status ${cfg}`);
      assert.equal(status.status, 0, status.output);
      assert.match(status.output, /protected: yes/);
      await c.check(`printf '<6>kdump-service-marker-${tag}-${mode}-${mib}\\n' > /dev/kmsg`);
      const from = c.transcript().length;
      c.send('echo c > /proc/sysrq-trigger\n');
      const t1 = Date.now();
      await c.waitReady(1_500_000);
      const seen = c.transcript().slice(from);
      await writeFile(join(dir, `capture-${mode}-${mib}.txt`), seen);
      if (mode === 'root') assert.match(seen, /NODE_FROM=root/);
      const exited = /kexec-ts-kdump: kdump save exited (\d+)/.exec(seen);
      rec.saveSeconds = (Date.now() - t1) / 1000;
      const saved = /kexec-ts-kdump: saving to (\S+)/.exec(seen);
      // save reboots the machine itself (ACTION=reboot), so /init's "exited" line only shows on failure.
      if (!/saved dmesg\.txt, vmcore to \//.test(seen)) {
        rec.failure = exited
          ? `kdump save exited ${exited[1]}`
          : (/Out of memory[^\n]*|Initramfs unpacking failed[^\n]*|Kernel panic(?! - not syncing: sysrq)[^\n]*/.exec(
              seen,
            )?.[0] ?? 'no capture output');
        if (strict) assert.fail(`${rec.failure}\n${seen.slice(-4000)}`);
        return rec;
      }
      assert.ok(saved);
      // Back in the main kernel: the newest dump directory on the disk holds the marker.
      await prepareMain();
      await c.check('mkdir -p /mnt/d && mount /dev/vda /mnt/d');
      const newest = (await c.check('ls -1 /mnt/d | grep -v lost+found | sort | tail -n 1')).trim();
      rec.dir = newest;
      assert.match(
        await c.check(`cat /mnt/d/${newest}/dmesg.txt`, 120_000),
        new RegExp(`kdump-service-marker-${tag}-${mode}-${mib}`),
      );
      rec.vmcoreBytes = Number(await c.check(`stat -c %s /mnt/d/${newest}/vmcore`));
      assert.ok(rec.vmcoreBytes > 512 << 20, `vmcore ${rec.vmcoreBytes}`);
      // Keep dmesg.txt; drop the dump so the next cycle has room.
      await c.check(`rm /mnt/d/${newest}/vmcore && sync && umount /mnt/d`);
      rec.ok = true;
      return rec;
    }

    plan(cycle);

    it('on the host: every successful cycle left dmesg.txt with its marker (debugfs)', async () => {
      await guest?.close();
      guest = undefined;
      for (const r of cycles.filter((x) => x.ok)) {
        const out = join(dir, `dmesg-${r.mode}-${r.crashMiB}.txt`);
        await rm(out, { force: true });
        await run('debugfs', ['-R', `dump /${r.dir}/dmesg.txt ${out}`, disk]);
        assert.match(
          readFileSync(out, 'latin1'),
          new RegExp(`\\] kdump-service-marker-${tag}-${r.mode}-${r.crashMiB}\\n`),
        );
        assert.match(readFileSync(out, 'latin1'), /sysrq: Trigger a crash/);
      }
    });
  });
}

// KEXEC_TS_KDUMP_CYCLES="root:112,initrd:288,..." runs other sizes on 6.1 instead (for bisecting); every
// cycle is then recorded, none asserted. The edge below the minimum (root:96, 2 of 3 runs OOM) is measured
// that way, not in CI: a cycle that only records asserts nothing and thrashes for minutes.
const custom = process.env.KEXEC_TS_KDUMP_CYCLES;
if (custom) {
  kdumpServiceSuite('6.1', undefined, (cycle) => {
    for (const spec of custom.split(',')) {
      const [mode, mib] = spec.split(':') as [Mode, string];
      it(`${mode} ${mib} MiB: recorded`, async () => {
        await cycle(mode, Number(mib), false);
      });
    }
  });
} else {
  kdumpServiceSuite('6.1', undefined, (cycle) => {
    it(`NODE_FROM=root (the default), ${MIN.root} MiB: build-initrd, load, status 0, crash, kdump save to the disk, reboot back`, async () => {
      assert.equal((await cycle('root', MIN.root, true)).ok, true);
    });
    it(`NODE_FROM=initrd, ${MIN.initrd} MiB: the same cycle with Node inside the capture image`, async () => {
      assert.equal((await cycle('initrd', MIN.initrd, true)).ok, true);
    });
  });
  kdumpServiceSuite('6.12', 'linux-image-6.12-cloud-amd64', (cycle) => {
    it(`NODE_FROM=root, ${DEBIAN_DEFAULT} MiB on Debian 6.12: the full cycle`, async () => {
      assert.equal((await cycle('root', DEBIAN_DEFAULT, true)).ok, true);
    });
  });
}
