// The initramfs builder against FakeSys (scripted ldd, a fake package tree) and the archives it writes
// read back by GNU cpio and by our own parser.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { listInitramfs } from '../../../src/formats/cpio/initramfs.js';
import { CpioNewcHeader } from '../../../src/formats/cpio/newc.js';
import { encodeElfHeader } from '../../../src/formats/elf/ehdr.js';
import { encodeProgramHeaders, PT_INTERP } from '../../../src/formats/elf/phdr.js';
import {
  encodeCpio,
  foreignPrebuild,
  InitramfsTree,
  runtimeDependencies,
  sharedLibraries,
  writeCpio,
} from '../../../src/initramfs/index.js';
import { FakeSys, type FakeSysOptions } from '../../../src/sys/fake.js';
import type { ExecOptions } from '../../../src/sys/types.js';
import { elfHeaderFor } from '../../helpers/build-elf.js';

const LDD_SH = `\tlinux-vdso.so.1 (0x00007ffc)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f10)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f20)
`;

/** A 64-bit ELF whose only program header is PT_INTERP naming `interp`. */
function elfWithInterp(interp: string): Uint8Array {
  const header = elfHeaderFor({}, 1);
  const text = new TextEncoder().encode(`${interp}\0`);
  const at = 64 + 56;
  const bytes = new Uint8Array(at + text.byteLength);
  encodeElfHeader(header, bytes);
  const phdr = { p_type: PT_INTERP, p_flags: 4, p_offset: BigInt(at), p_vaddr: 0n, p_paddr: 0n };
  encodeProgramHeaders(
    [{ ...phdr, p_filesz: BigInt(text.byteLength), p_memsz: 0n, p_align: 1n }],
    header,
    bytes,
  );
  bytes.set(text, at);
  return bytes;
}

/** A 64-bit ELF header without program headers: nothing to interpret, as a static binary. */
function staticElf(): Uint8Array {
  const bytes = new Uint8Array(64);
  encodeElfHeader(elfHeaderFor({}, 0), bytes);
  return bytes;
}

/** `cpio -itv` of an archive: GNU cpio's own listing (mode, owner, size or device, name). */
function cpioList(archive: Uint8Array): string[] {
  const r = spawnSync('cpio', ['-itv', '--quiet', '--numeric-uid-gid'], { input: archive, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

describe('shared libraries of a binary', () => {
  it('parses ldd: libraries and the loader, not the vdso; LD_LIBRARY_PATH for .deb library dirs', () => {
    const seen: ExecOptions[] = [];
    const sys = new FakeSys({
      exec: (argv, opts) => {
        if (argv[0] !== 'ldd') return undefined;
        seen.push(opts);
        return { stdout: LDD_SH };
      },
    });
    const libs = sharedLibraries('/bin/sh', { sys, libraryDirs: ['/x/usr/lib', '/y/lib'] });
    assert.deepEqual(libs, ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
    assert.deepEqual(seen[0]?.env, { LD_LIBRARY_PATH: '/x/usr/lib:/y/lib' });
  });

  it('without ldd: the PT_INTERP loader --list; a static binary has none', () => {
    const sys = new FakeSys({
      files: {
        '/bin/dyn': elfWithInterp('/lib/ld.so'),
        '/bin/static': staticElf(),
      },
      exec: (argv) => (argv[0] === '/lib/ld.so' && argv[1] === '--list' ? { stdout: LDD_SH } : undefined),
    });
    assert.equal(sharedLibraries('/bin/dyn', { sys }).length, 2);
    assert.deepEqual(
      sys.callsOf('execSync').map((c) => (c.args[0] as string[])[0]),
      ['ldd', '/lib/ld.so'],
    );
    assert.deepEqual(sharedLibraries('/bin/static', { sys }), []);
  });

  it('a library ldd cannot find is an error naming it', () => {
    const sys = new FakeSys({ exec: () => ({ stdout: '\tlibxenctrl.so.4.17 => not found\n' }) });
    assert.throws(
      () => sharedLibraries('/sbin/kexec', { sys }),
      /\/sbin\/kexec: libxenctrl\.so\.4\.17 => not found/,
    );
  });

  it('addBinary: the binary where asked, libraries at their paths from their real files, .deb ones in the multiarch dir', () => {
    const sys = new FakeSys({
      files: {
        '/deb/usr/sbin/kexec': 'ELF',
        '/lib/x86_64-linux-gnu/libc.so.6.real': 'libc',
        '/deb2/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17': 'xen',
      },
      symlinks: { '/lib/x86_64-linux-gnu/libc.so.6': 'libc.so.6.real' },
      exec: () => ({
        stdout:
          '\tlibxenctrl.so.4.17 => /deb2/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17 (0x1)\n' +
          '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n',
      }),
    });
    const t = new InitramfsTree(sys);
    t.addBinary('/deb/usr/sbin/kexec', {
      as: '/sbin/kexec',
      libraryDirs: ['/deb2/usr/lib/x86_64-linux-gnu'],
    });
    const files = t.entries.filter((e) => e.kind === 'file').map((e) => [e.path, e.source, e.mode]);
    assert.deepEqual(files, [
      ['/sbin/kexec', '/deb/usr/sbin/kexec', 0o755],
      [
        '/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17',
        '/deb2/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17',
        0o755,
      ],
      ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6.real', 0o755],
    ]);
    // parents first, each once
    assert.deepEqual(
      t.entries.filter((e) => e.kind === 'dir').map((e) => e.path),
      ['/sbin', '/usr', '/usr/lib', '/usr/lib/x86_64-linux-gnu', '/lib', '/lib/x86_64-linux-gnu'],
    );
  });
});

describe('npm packages', () => {
  const pj = (o: object) => JSON.stringify(o);
  const tree: FakeSysOptions = {
    files: {
      '/app/package.json': pj({
        name: 'app',
        dependencies: { a: '1', b: '2' },
        optionalDependencies: { gone: '1' },
      }),
      '/app/dist/main.js': 'main',
      '/app/dist/main.js.map': 'map',
      '/app/node_modules/a/package.json': pj({
        name: 'a',
        dependencies: { b: '1' },
        optionalDependencies: { 'a-linux-x64': '1' },
      }),
      '/app/node_modules/a/node_modules/b/package.json': pj({ name: 'b', version: '1' }),
      '/app/node_modules/b/package.json': pj({ name: 'b', version: '2' }),
      '/app/node_modules/a-linux-x64/package.json': pj({ name: 'a-linux-x64' }),
      '/app/node_modules/a-linux-x64/linux_x64/a.node': 'addon',
      '/app/node_modules/a-linux-x64/musl_x64/a.node': 'musl addon',
      '/app/node_modules/a-linux-x64/build/koffi/linux_arm64/x.node': 'arm64',
      '/app/node_modules/typescript/package.json': pj({ name: 'typescript' }),
    },
  };

  it('runtime dependencies: hoisted by name, a nested version kept nested, missing optional ones skipped', () => {
    const deps = runtimeDependencies('/app', new FakeSys(tree));
    assert.deepEqual(Object.fromEntries(deps), {
      a: '/app/node_modules/a',
      b: '/app/node_modules/b',
      'a/node_modules/b': '/app/node_modules/a/node_modules/b',
      'a-linux-x64': '/app/node_modules/a-linux-x64',
    });
  });

  it('foreign prebuilds: other koffi platforms and musl builds', () => {
    assert.equal(foreignPrebuild('build/koffi/linux_arm64', 'linux_x64'), true);
    assert.equal(foreignPrebuild('build/koffi/linux_x64', 'linux_x64'), false);
    assert.equal(foreignPrebuild('musl_x64', 'linux_x64'), true);
    assert.equal(foreignPrebuild('lib/musl-helpers.js', 'linux_x64'), true);
    assert.equal(foreignPrebuild('linux_x64/a.node', 'linux_x64'), false);
  });

  it('addNodePackage: the package (only what is asked), its dependencies where Node finds them, addon libraries', () => {
    const ldd: string[] = [];
    const sys = new FakeSys({
      ...tree,
      files: { ...tree.files, '/lib/libstdc++.so.6': 'c++' },
      exec: (argv) => {
        ldd.push(argv[1]!);
        return { stdout: '\tlibstdc++.so.6 => /lib/libstdc++.so.6 (0x1)\n' };
      },
    });
    const t = new InitramfsTree(sys);
    const at = t.addNodePackage('/app', {
      into: '/opt/nm',
      only: ['package.json', 'dist'],
      skip: (r) => r.endsWith('.map'),
    });
    assert.equal(at, '/opt/nm/app');
    const files = t.entries.filter((e) => e.kind === 'file').map((e) => e.path);
    assert.deepEqual(files, [
      '/opt/nm/app/package.json',
      '/opt/nm/app/dist/main.js',
      '/opt/nm/a/package.json',
      '/opt/nm/b/package.json',
      '/opt/nm/a/node_modules/b/package.json',
      '/opt/nm/a-linux-x64/linux_x64/a.node',
      '/opt/nm/a-linux-x64/package.json',
      '/lib/libstdc++.so.6',
    ]);
    assert.deepEqual(ldd, ['/app/node_modules/a-linux-x64/linux_x64/a.node']);
  });
});

describe('the cpio writer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-initramfs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sys = new FakeSys({ files: { '/host/tool': 'abcdefg' }, modes: { '/host/tool': 0o750 } });
  const tree = () => {
    const t = new InitramfsTree(sys);
    t.dir('/etc', { mode: 0o700 });
    t.file('/usr/bin/tool', '/host/tool', { uid: 1000, gid: 100 });
    t.bytes('/etc/motd', 'hi\n');
    t.symlink('/bin/sh', '/bin/busybox');
    t.device('chardev', '/dev/console', 5, 1);
    t.device('blockdev', '/dev/vda', 254, 0, { mode: 0o660 });
    t.bytes('/etc/motd', 'second: ignored');
    return t;
  };

  it('GNU cpio reads back modes, owners, sizes, link targets and device numbers', () => {
    const list = cpioList(encodeCpio(tree().entries, { sys }));
    const row = (name: string) => list.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `));
    assert.match(row('etc') ?? '', /^drwx------ +1 0 +0 +0 /);
    assert.match(row('usr/bin/tool') ?? '', /^-rwxr-x--- +1 1000 +100 +7 /);
    assert.match(row('etc/motd') ?? '', /^-rw-r--r-- +1 0 +0 +3 /);
    assert.match(row('bin/sh') ?? '', /^lrwxrwxrwx .* bin\/sh -> \/bin\/busybox$/);
    assert.match(row('dev/console') ?? '', /^crw------- +1 0 +0 +5, +1 /);
    assert.match(row('dev/vda') ?? '', /^brw-rw---- +1 0 +0 +254, +0 /);
    assert.equal(list.length, 10, list.join('\n'));
  });

  it('headers are the CpioNewcHeader table; the archive is padded to 512 (or the block asked for)', () => {
    const bytes = encodeCpio(tree().entries, { sys });
    assert.equal(bytes.byteLength % 512, 0);
    const h = CpioNewcHeader.decode(bytes, 0);
    assert.deepEqual(
      [h.c_magic, h.c_ino, h.c_mode, h.c_nlink, h.c_mtime],
      ['070701', '00000001', '000041c0', '00000001', '00000000'],
    );
    const small = encodeCpio([{ kind: 'bytes', path: 'x', data: 'y' }], { block: 4 });
    assert.equal(small.byteLength, 112 + 4 + 112 + 12, 'x, its data padded to 4, the trailer padded to 4');
  });

  it('a source that changes size while archived: FileError, nothing written', async () => {
    const shrinking = new FakeSys({ files: { '/host/log': 'abcdef' } });
    const real = shrinking.readRange.bind(shrinking);
    // The file as read holds 3 bytes, not the 6 that fileStat said.
    shrinking.readRange = (p, o, n) => real(p, o, Math.max(0, Math.min(n, 3 - o)));
    const out = join(dir, 'bad.img');
    await assert.rejects(
      writeCpio(out, [{ kind: 'file', path: 'log', source: '/host/log' }], { sys: shrinking }),
      { code: 'E_FILE', errno: 'EAGAIN', hint: /\/host\/log changed size while archiving \(6 -> 3 bytes\)/ },
    );
    assert.throws(() => statSync(out), /ENOENT/);
  });

  it('writeCpio: gzip, file size and unpacked size, aligned to 4, mode of the file', async () => {
    const out = join(dir, 'a.img');
    const r = await writeCpio(out, tree().entries, { sys, compression: 'gzip', align: 4, mode: 0o600 });
    const bytes = readFileSync(out);
    assert.equal(r.bytes, bytes.byteLength);
    assert.equal(r.bytes % 4, 0);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const plain = gunzipSync(bytes);
    assert.equal(plain.byteLength, r.unpacked);
    assert.deepEqual(plain, Buffer.from(encodeCpio(tree().entries, { sys })));
    const info = listInitramfs(new Uint8Array(bytes));
    assert.equal(info.segments[0]!.compression, 'gzip');
    assert.ok(info.members.some((m) => m.name === 'usr/bin/tool' && m.size === 7));
  });
});
