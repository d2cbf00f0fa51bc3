import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StateError } from '../../../src/errors.js';
import { listInitramfs } from '../../../src/formats/cpio/initramfs.js';
import { elfInterpreter } from '../../../src/formats/elf/phdr.js';
import { kexecTsPackageDir, runtimeDependencies, sharedLibraries } from '../../../src/initramfs/index.js';
import { parseKdumpConfig } from '../../../src/kdump/service/config.js';
import { KDUMP_INIT } from '../../../src/kdump/service/init-script.js';
import {
  BUSYBOX_PATHS,
  buildCaptureInitrd,
  captureEnv,
  runningRoot,
} from '../../../src/kdump/service/initrd.js';
import { detectLiblzo2As } from '../../../src/sys/liblzo2.js';

// scripts/fetch-fixtures.sh installs busybox-static: these tests fail, never skip, without it.
const busybox = BUSYBOX_PATHS.find((p) => existsSync(p));

function requireBusybox(): string {
  assert.ok(busybox, `no busybox at ${BUSYBOX_PATHS.join(', ')} (apt-get install busybox-static)`);
  return busybox;
}

describe('kdump build-initrd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-kdump-initrd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the dynamic loader and libraries of a binary', () => {
    const interp = elfInterpreter(readFileSync('/bin/sh').subarray(0, 65536));
    assert.match(interp ?? '', /^\/lib.*\/ld-linux.*\.so\.\d$/);
    const libs = sharedLibraries('/bin/sh');
    assert.ok(
      libs.some((l) => /libc\.so\.6$/.test(l)),
      libs.join(' '),
    );
    assert.equal(elfInterpreter(new Uint8Array(64)), undefined);
  });

  it('resolves kexec-ts runtime dependencies (not dev ones)', () => {
    const deps = runtimeDependencies(kexecTsPackageDir());
    // koffi's platform package is the runtime dependency (src/sys/koffi.ts); `koffi` is a dev one (types).
    assert.ok(deps.has('@koromix/koffi-linux-x64'), 'koffi native prebuild (an optional dependency)');
    assert.ok(!deps.has('koffi'));
    assert.ok(!deps.has('typescript'));
  });

  it('NODE_FROM=initrd: an initramfs with /init, busybox applets, node, kexec-ts and the resolved config', async () => {
    requireBusybox();
    const out = join(dir, 'kdump.img');
    const config = parseKdumpConfig(
      'TARGET=/dev/vdb\nACTION=poweroff\nNODE_FROM=initrd\n',
      '/etc/kexec-ts/kdump.conf',
    );
    const r = await buildCaptureInitrd({
      output: out,
      config,
      kernel: '/boot/vmlinuz-test',
      release: 'test',
      compression: 'gzip',
      busybox: busybox!,
      node: '/bin/sh', // a small stand-in: the layout is the same
    });
    assert.equal(r.compression, 'gzip');
    assert.ok(r.unpacked > r.bytes);
    const info = listInitramfs(new Uint8Array(readFileSync(out)));
    assert.equal(info.segments[0]!.compression, 'gzip');
    assert.ok(info.hasInit);
    const names = new Set(info.members.map((m) => m.name));
    for (const n of [
      'init',
      'bin/busybox',
      'bin/sh',
      'bin/node',
      'bin/kexec-ts',
      'dev/console',
      'etc/kexec-ts/kdump.conf',
      'opt/kexec-ts/node_modules/kexec-ts/package.json',
      'opt/kexec-ts/node_modules/kexec-ts/dist/src/bin/kexec-ts.js',
      'opt/kexec-ts/node_modules/kexec-ts/dist/src/kdump/service/command.js',
      'opt/kexec-ts/node_modules/@koromix/koffi-linux-x64/package.json',
    ])
      assert.ok(names.has(n), `missing ${n}`);
    assert.ok([...names].some((n) => /libc\.so\.6$/.test(n)));
    // the LZO library vmcore save -l loads, under its soname (the unit setup installs liblzo2-2)
    assert.ok(
      [...names].some((n) => /^(usr\/)?lib\/[^/]+\/liblzo2\.so\.2$/.test(n)),
      'liblzo2.so.2',
    );
    assert.ok(![...names].some((n) => n.includes('dist/test')));
    assert.equal(r.nodeFrom, 'initrd');
    assert.match(r.entry, /^\/opt\/kexec-ts\/node_modules\/kexec-ts\/dist\/src\/bin\/kexec-ts\.js$/);
  });

  it('NODE_FROM=root (the default): busybox, config and /init only; Node and kexec-ts stay on ROOT', async () => {
    requireBusybox();
    const out = join(dir, 'kdump-root.img');
    const config = parseKdumpConfig('TARGET=/dev/vdb\nROOT=LABEL=sysroot\n', '/etc/kexec-ts/kdump.conf');
    const r = await buildCaptureInitrd({
      output: out,
      config,
      kernel: '/boot/vmlinuz-test',
      release: 'test',
      compression: 'none',
      busybox: busybox!,
      node: '/bin/sh',
    });
    assert.equal(r.nodeFrom, 'root');
    assert.equal(r.root, 'LABEL=sysroot');
    assert.equal(r.entry, join(kexecTsPackageDir(), 'dist/src/bin/kexec-ts.js'));
    const bytes = new Uint8Array(readFileSync(out));
    const info = listInitramfs(bytes);
    const names = new Set(info.members.map((m) => m.name));
    for (const n of ['init', 'bin/busybox', 'etc/kexec-ts/capture.env'])
      assert.ok(names.has(n), `missing ${n}`);
    const applet = (a: string) => ['bin', 'sbin', 'usr/bin', 'usr/sbin'].some((d) => names.has(`${d}/${a}`));
    for (const a of ['chroot', 'findfs', 'insmod', 'mount']) assert.ok(applet(a), `missing applet ${a}`);
    for (const n of [
      'bin/node',
      'bin/kexec-ts',
      'opt/kexec-ts/node_modules/@koromix/koffi-linux-x64/package.json',
    ])
      assert.ok(!names.has(n), `${n} must not be in a NODE_FROM=root image`);
    // A few MB (busybox and its libraries), against ~140 MB with Node inside.
    assert.ok(r.unpacked < 8 << 20, `${r.unpacked} bytes`);
    const text = Buffer.from(bytes).toString('latin1');
    assert.ok(text.includes(`NODE=${realpathSync('/bin/sh')}\nENTRY=${r.entry}\n`));
    assert.ok(text.includes('ROOT="LABEL=sysroot"\n'), 'the resolved ROOT is in the image config');
  });

  it('FORMAT=kdump with COMPRESSION lzo on a machine without liblzo2: refused, no image', async () => {
    requireBusybox();
    const config = parseKdumpConfig(
      'TARGET=/dev/vdb\nNODE_FROM=initrd\nFORMAT=kdump\nCOMPRESSION=lzo\n',
      '/etc/kexec-ts/kdump.conf',
    );
    assert.equal(config.compression, 'lzo');
    detectLiblzo2As('liblzo2-absent.so.2');
    try {
      await assert.rejects(
        buildCaptureInitrd({
          output: join(dir, 'no-lzo.img'),
          config,
          kernel: '/boot/vmlinuz-test',
          release: 'test',
          busybox: busybox!,
          node: '/bin/sh',
        }),
        (e: Error & { hint?: string }) =>
          e instanceof StateError &&
          /^COMPRESSION lzo needs liblzo2 in the capture image/.test(e.message) &&
          /apt-get install liblzo2-2/.test(e.hint ?? ''),
      );
    } finally {
      detectLiblzo2As();
    }
    assert.ok(!existsSync(join(dir, 'no-lzo.img')));
  });

  it('NODE_FROM=root with no ROOT and no block-device root: refused with a hint', async () => {
    requireBusybox();
    const config = parseKdumpConfig('', '/etc/kexec-ts/kdump.conf');
    await assert.rejects(
      buildCaptureInitrd({
        output: join(dir, 'no.img'),
        config,
        kernel: '/boot/vmlinuz-test',
        release: 'test',
        busybox: busybox!,
      }),
      (e: Error & { hint?: string }) =>
        /the running \/ is not on a block device and ROOT= is not set/.test(e.message) &&
        /NODE_FROM=initrd/.test(e.hint ?? ''),
    );
    assert.ok(!existsSync(join(dir, 'no.img')));
  });

  it('the running root: root= when the capture /init can find it, else the / mount source', () => {
    const mi = [
      '22 28 0:21 / /sys rw,nosuid - sysfs sysfs rw',
      '28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro',
    ].join('\n');
    assert.equal(runningRoot('BOOT_IMAGE=/vmlinuz root=UUID=ab-12 ro', mi), 'UUID=ab-12');
    assert.equal(runningRoot('root=LABEL=x root=/dev/sda2 ro', mi), '/dev/sda2', 'the last root= wins');
    assert.equal(runningRoot('root=PARTUUID=1-2 ro', mi), '/dev/vda1', 'PARTUUID: busybox findfs cannot');
    assert.equal(runningRoot('console=ttyS0', mi), '/dev/vda1');
    assert.equal(runningRoot('console=ttyS0', '1 0 0:2 / / rw - rootfs rootfs rw'), undefined);
    assert.equal(runningRoot(undefined, undefined), undefined);
  });

  it('capture.env refuses paths the shell would split', () => {
    assert.equal(captureEnv('/usr/bin/node', '/a/b.js'), 'NODE=/usr/bin/node\nENTRY=/a/b.js\n');
    assert.throws(() => captureEnv('/opt/my node/node', '/a.js'), /spaces or shell characters/);
    assert.throws(() => captureEnv('/usr/bin/node', '/a$(x).js'), /spaces or shell characters/);
  });

  it('/init is valid sh (busybox sh -n)', () => {
    requireBusybox();
    const r = spawnSync(busybox!, ['sh', '-n'], { input: KDUMP_INIT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const bad = spawnSync(busybox!, ['sh', '-n'], { input: 'if true; then\n', encoding: 'utf8' });
    assert.notEqual(bad.status, 0, 'the syntax check can fail');
  });

  it('/init runs kdump save (chroot into ROOT for NODE_FROM=root) and keeps a busybox fallback for the ACTION', () => {
    assert.match(KDUMP_INIT, /\$chroot \$NODE \$NODE_ARGS \$ENTRY kdump save --config \$cfg --dir "\$dir"/);
    assert.match(KDUMP_INIT, /chroot="chroot \$R"/);
    assert.match(KDUMP_INIT, /mount -o \$ro "\$rdev" \$R/);
    assert.match(KDUMP_INIT, /\. \/etc\/kexec-ts\/capture\.env/);
    // Node killed by a signal (OOM): busybox dd keeps a full ELF copy.
    assert.match(KDUMP_INIT, /if \[ \$st -ge 128 \] && \[ -e \/proc\/vmcore \]; then/);
    assert.match(KDUMP_INIT, /dd if=\/proc\/vmcore of="\$d\/vmcore" bs=1M/);
    assert.match(KDUMP_INIT, /reboot -f/);
    assert.match(KDUMP_INIT, /\. \/etc\/kexec-ts\/kdump\.conf/);
  });
});
