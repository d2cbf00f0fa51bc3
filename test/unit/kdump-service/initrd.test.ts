import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listInitramfs } from '../../../src/formats/cpio/initramfs.js';
import { parseKdumpConfig } from '../../../src/kdump/service/config.js';
import { KDUMP_INIT } from '../../../src/kdump/service/init-script.js';
import {
  BUSYBOX_PATHS,
  buildCaptureInitrd,
  elfInterpreter,
  kexecTsPackageDir,
  runtimeDependencies,
  sharedLibraries,
} from '../../../src/kdump/service/initrd.js';

const busybox = BUSYBOX_PATHS.find((p) => existsSync(p));

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
    assert.ok(deps.has('koffi'));
    assert.ok(deps.has('@koromix/koffi-linux-x64'), 'koffi native prebuild (an optional dependency)');
    assert.ok(!deps.has('typescript'));
  });

  it('writes an initramfs with /init, busybox applets, node, kexec-ts and the resolved config', {
    skip: !busybox,
  }, async () => {
    const out = join(dir, 'kdump.img');
    const config = parseKdumpConfig('TARGET=/dev/vdb\nACTION=poweroff\n', '/etc/kexec-ts/kdump.conf');
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
      'opt/kexec-ts/node_modules/koffi/package.json',
    ])
      assert.ok(names.has(n), `missing ${n}`);
    assert.ok([...names].some((n) => /libc\.so\.6$/.test(n)));
    assert.ok(![...names].some((n) => n.includes('dist/test')));
  });

  it('/init runs kdump save and keeps a busybox fallback for the ACTION', () => {
    assert.match(KDUMP_INIT, /\/bin\/kexec-ts kdump save --dir "\$dir"/);
    assert.match(KDUMP_INIT, /reboot -f/);
    assert.match(KDUMP_INIT, /\. \/etc\/kexec-ts\/kdump\.conf/);
  });
});
