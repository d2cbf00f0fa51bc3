// Guest-side checks shared by the kexec_load (-c) lab tests and the purgatory benchmark.
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeCpio } from '../../src/initramfs/index.js';
import type { GuestConsole } from '../../src/lab/console.js';
import type { LabBuild } from '../../src/lab/initramfs.js';
import type { LabSetup } from '../../src/lab/setup.js';

export const BOOT_TIMEOUT = 600_000;
export const LOAD_TIMEOUT = 300_000;
export { makeChain } from '../../src/lab/guest-scripts.js';
export const EFIVARFS_KO = 'kernel/fs/efivarfs/efivarfs.ko';
export const EFIVARS = '/sys/firmware/efi/efivars';

export async function memTotalKiB(c: GuestConsole): Promise<number> {
  const m = /MemTotal:\s+(\d+) kB/.exec(await c.check('grep MemTotal /proc/meminfo'));
  assert.ok(m, 'MemTotal in /proc/meminfo');
  return Number(m[1]);
}

/** The initrd arrived whole: the build's nonce and the sha256 of its 1 MiB random blob. */
export async function assertInitrdIntact(c: GuestConsole, build: LabBuild): Promise<void> {
  assert.equal(await c.check('cat /lab/initrd-id'), build.nonce);
  assert.equal((await c.check('sha256sum /lab/blob')).split(/\s+/)[0], build.blobSha256);
}

/**
 * EFI runtime services at work: mount efivarfs (GetNextVariableName lists the variables) and hash every
 * variable's contents (GetVariable for each). Returns "<count> <sha256>".
 */
export async function efivarsSummary(c: GuestConsole): Promise<string> {
  await c.check(
    `grep -q efivarfs /proc/mounts || { insmod /lib/modules/$(uname -r)/${EFIVARFS_KO}; mount -t efivarfs efivarfs ${EFIVARS}; }`,
  );
  const out = await c.check(
    `n=$(ls ${EFIVARS} | wc -l); s=$(for f in ${EFIVARS}/*; do cat "$f"; done | sha256sum); echo "$n \${s%% *}"`,
  );
  return out.trim();
}

/** /sys/firmware/efi/runtime-map as "type phys virt pages attr" lines. */
export async function runtimeMap(c: GuestConsole): Promise<string> {
  return c.check(
    'for d in $(ls -d /sys/firmware/efi/runtime-map/* | sort -t/ -k6 -n); do echo $(cat $d/type $d/phys_addr $d/virt_addr $d/num_pages $d/attribute); done',
  );
}

/**
 * The build's initrd plus a cpio holding efivarfs.ko (the lab rootfs has no modules but dummy.ko), for
 * QEMU's -initrd; the last -initrd on QEMU's command line wins.
 */
export async function initrdWithEfivarfs(setup: LabSetup, build: LabBuild): Promise<string> {
  const mods = `/lib/modules/${setup.kernelRelease}`;
  const ko = join(dirname(dirname(setup.vmlinuz)), mods, EFIVARFS_KO);
  assert.ok(existsSync(ko), `${ko} (efivarfs module of the guest kernel)`);
  const cpio = join(build.dir, 'efivarfs.cpio');
  await writeCpio(cpio, [
    { kind: 'dir', path: `${mods}/kernel/fs` },
    { kind: 'dir', path: `${mods}/kernel/fs/efivarfs` },
    { kind: 'file', path: `${mods}/${EFIVARFS_KO}`, source: ko },
  ]);
  const out = join(build.dir, 'initrd-efivarfs.img');
  const w = createWriteStream(out);
  for (const f of [build.initrd, cpio]) await pipeline(createReadStream(f), w, { end: false });
  w.end();
  await new Promise<void>((resolve, reject) => w.on('finish', resolve).on('error', reject));
  return out;
}

/** A command line of exactly `len` bytes: `head` then lab.pad=xxx... */
export function paddedCmdline(head: string, len: number): string {
  const s = `${head} lab.pad=`;
  assert.ok(len > s.length);
  return s + 'x'.repeat(len - s.length);
}

export const EDD_KO = 'kernel/drivers/firmware/edd.ko';

/**
 * A cpio holding edd.ko (CONFIG_EDD=m in Debian's cloud kernel; the lab rootfs has no modules), for
 * startGuest's extraInitrd; makeChain('lib/modules/*\/kernel/drivers/firmware') carries it along.
 */
export async function eddCpio(setup: LabSetup, build: LabBuild): Promise<string> {
  const mods = `/lib/modules/${setup.kernelRelease}`;
  const ko = join(dirname(dirname(setup.vmlinuz)), mods, EDD_KO);
  assert.ok(existsSync(ko), `${ko} (edd module of the guest kernel)`);
  const cpio = join(build.dir, 'edd.cpio');
  await writeCpio(cpio, [
    { kind: 'dir', path: `${mods}/kernel/drivers` },
    { kind: 'dir', path: `${mods}/kernel/drivers/firmware` },
    { kind: 'file', path: `${mods}/${EDD_KO}`, source: ko },
  ]);
  return cpio;
}

/** A 1 MiB raw disk whose MBR carries `signature` (offset 0x1b8) and the 0x55aa boot signature. */
export async function mbrDisk(path: string, signature: number): Promise<void> {
  const b = Buffer.alloc(1 << 20);
  b.writeUInt32LE(signature, 0x1b8);
  b.writeUInt16LE(0xaa55, 0x1fe);
  await writeFile(path, b);
}

/**
 * What /sys/firmware/edd shows (edd.ko loaded first): per int13_dev, version, MBR signature, legacy
 * geometry, extensions and the raw device parameters in hex. One line per drive.
 */
export async function eddSummary(c: GuestConsole): Promise<string> {
  await c.check(`[ -d /sys/firmware/edd ] || insmod /lib/modules/$(uname -r)/${EDD_KO}`);
  return c.check(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'for d in /sys/firmware/edd/int13_dev*; do echo ${d##*/} $(cat $d/version $d/mbr_signature $d/legacy_max_cylinder $d/legacy_max_head $d/legacy_sectors_per_track 2>/dev/null) $(cat $d/extensions 2>/dev/null | tr " \n" "_,") $(od -An -tx1 $d/raw_data | tr -d " \n"); done',
  );
}

/** fb0's driver name and size, and the efifb probe lines of this boot's log (timestamps cut). */
export async function fbSummary(c: GuestConsole): Promise<string> {
  return c.check(
    "cat /sys/class/graphics/fb0/name /sys/class/graphics/fb0/virtual_size; dmesg | grep -E 'efifb: (framebuffer at|mode is)' | sed 's/^\\[[^]]*\\] //'",
  );
}
