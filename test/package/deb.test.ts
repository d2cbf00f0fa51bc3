// The Debian package on Debian 12 and 13 without booting (issue 13): a minimal tree made by mmdebstrap
// (no Node.js in it; cached by content in the lab cache), `apt install ./kexec-ts_*.deb` in a chroot,
// which pulls the distribution's nodejs, the commands a new user runs (--version, --help, doctor --json,
// inspect on a real Debian kernel, vmcore info/dmesg/save in every format on a synthetic dump), then
// `apt purge`, after which the tree must be as before the install but for dpkg's and apt's records and
// logs, and `apt autoremove` takes the nodejs it pulled.
// Needs root (chroot, mounts in a private namespace) and Debian's archive. Run: npm run test:package.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildDeb, type DebResult } from '../../scripts/build-deb.js';
import { listInitramfs } from '../../src/formats/cpio/initramfs.js';
import { labDir } from '../../src/lab/paths.js';
import { userVmcore } from '../helpers/build-vmcore.js';
import { debianTree } from './debian-tree.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KERNEL = join(ROOT, 'test/fixtures/real/vmlinuz-6.12.107+deb12-cloud-amd64');
/** What each suite's apt must install for nodejs: Debian 12's 18.20, Debian 13's 20.19. */
const SUITES = [
  { suite: 'bookworm', node: /^v18\.(19|[2-9]\d)\./ },
  { suite: 'trixie', node: /^v20\.(19|[2-9]\d)\./ },
] as const;

const work = mkdtempSync(join(tmpdir(), 'kexec-ts-deb-test-'));
let deb: DebResult;
before(() => {
  deb = buildDeb(join(work, 'out'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs `script` with /bin/sh in the chroot `dir`, with /proc, /sys and /dev mounted in a mount namespace
 * of its own (unshare), so nothing stays mounted on the host whatever happens. Returns stdout; throws
 * with stderr on a non-zero exit unless `ok` accepts the status.
 */
function inChroot(
  dir: string,
  archives: string,
  script: string,
  ok: (status: number) => boolean = (s) => s === 0,
): string {
  // apt's downloads go to a directory of the lab cache, so a second run fetches nothing.
  const setup = `mount -t proc proc "$1/proc" && mount --rbind /sys "$1/sys" && mount --rbind /dev "$1/dev" && mount --bind "$3" "$1/var/cache/apt/archives" && exec chroot "$1" /bin/sh -c "$2"`;
  const r = spawnSync(
    'unshare',
    ['--mount', '--fork', '--', 'sh', '-c', setup, 'sh', dir, script, archives],
    {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C.UTF-8' },
      maxBuffer: 64 << 20,
    },
  );
  if (r.status === null || !ok(r.status))
    throw new Error(`chroot ${dir}: ${script}\nexit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Every path in the tree except the pseudo and scratch file systems, with its type; files under etc/ with
 * a hash of their content too, so that an edited configuration file shows.
 */
function snapshot(dir: string): Set<string> {
  const out = new Set<string>();
  const skip = new Set(['proc', 'sys', 'dev', 'run', 'tmp']);
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.has(rel)) continue;
      const hash =
        e.isFile() && rel.startsWith('etc/')
          ? ` ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`
          : '';
      out.add(`${rel}${e.isDirectory() ? '/' : ''}${hash}`);
      if (e.isDirectory()) visit(p);
    }
  };
  visit(dir);
  return out;
}

/** What installing and purging a package may leave: dpkg's and apt's records, logs, caches. */
const ALLOWED_LEFTOVER = /^(var\/lib\/dpkg\/|var\/lib\/apt\/|var\/log\/|var\/cache\/|etc\/ld\.so\.cache$)/;

/**
 * lintian's tags on the package, each explained in docs/packaging.md ("lintian"); the upstream addons'
 * tags are overridden (packaging/deb/lintian-overrides) and must stay so.
 */
const EXPECTED_LINTIAN = [
  'I: kexec-ts: package-supports-alternative-init-but-no-init.d-script [usr/lib/systemd/system/kexec-ts-kdump.service]',
];

describe('kexec-ts .deb', () => {
  it('lintian --pedantic -I: only the tags docs/packaging.md explains', () => {
    const r = spawnSync('lintian', ['--pedantic', '-I', '--tag-display-limit', '0', deb.path], {
      encoding: 'utf8',
    });
    const tags = r.stdout
      .split('\n')
      .filter((l) => /^[EWIPXO]: /.test(l))
      .sort();
    assert.deepEqual(tags, EXPECTED_LINTIAN, r.stdout + r.stderr);
  });

  it('is reproducible: a second build is the same bytes', () => {
    const again = buildDeb(join(work, 'again'));
    assert.ok(readFileSync(again.path).equals(readFileSync(deb.path)));
  });

  it('holds the program, its npm runtime dependencies for this architecture only, unit, conffile, docs', () => {
    const list = execFileSync('dpkg-deb', ['-c', deb.path], { encoding: 'utf8' });
    const paths = list.split('\n').map((l) => l.split(/\s+/)[5] ?? '');
    for (const p of [
      './usr/sbin/kexec-ts',
      './usr/lib/kexec-ts/dist/src/bin/kexec-ts.js',
      './usr/lib/kexec-ts/package.json',
      `./usr/lib/kexec-ts/node_modules/@koromix/koffi-linux-${process.arch}/package.json`,
      './usr/lib/systemd/system/kexec-ts-kdump.service',
      './etc/kexec-ts/kdump.conf',
      './usr/share/doc/kexec-ts/copyright',
      './usr/share/doc/kexec-ts/changelog.gz',
      './usr/share/man/man8/kexec-ts.8.gz',
      './usr/share/man/man8/kexec-ts-vmcore.8.gz',
      './usr/share/man/man8/kexec-ts-kdump.8.gz',
      './usr/share/man/man1/kexec-ts-inspect.1.gz',
      './usr/share/man/man1/kexec-ts-lab.1.gz',
      './usr/share/man/man8/kexec-ts-verify.8.gz',
      './usr/share/bash-completion/completions/kexec-ts',
      './usr/share/zsh/vendor-completions/_kexec-ts',
    ])
      assert.ok(paths.includes(p), p);
    // Native code for this machine only: one koffi, glibc builds, no other architecture or musl.
    const addons = paths.filter((p) => p.endsWith('.node'));
    assert.equal(addons.filter((p) => p.includes('koffi')).length, 1, addons.join(' '));
    assert.deepEqual(
      addons.filter((p) => /musl|arm|ia32|riscv|ppc|loong|darwin|win32/.test(p)),
      [],
    );
    // No TypeScript sources, source maps or declarations.
    assert.deepEqual(
      paths.filter((p) => /\.(ts|map)$/.test(p)),
      [],
    );
    const conffiles = execFileSync(
      'sh',
      ['-c', `dpkg-deb --ctrl-tarfile "$1" | tar -xO ./conffiles`, 'sh', deb.path],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(conffiles, '/etc/kexec-ts/kdump.conf\n');
    const control = execFileSync('dpkg-deb', ['-f', deb.path, 'Depends'], { encoding: 'utf8' });
    assert.match(control, /^nodejs \(>= 18\.19~\), libzstd1, liblzo2-2, libc6 \(>= 2\.\d+\)/);
  });
});

for (const { suite, node } of SUITES) {
  describe(`kexec-ts .deb on Debian ${suite}`, () => {
    let dir: string;
    let base: Set<string>;
    const archives = join(labDir(), 'deb-trees', `apt-archives-${suite}`);
    const sh = (script: string, ok?: (s: number) => boolean) => inChroot(dir, archives, script, ok);

    it('installs with apt from a file, pulling the distribution nodejs', () => {
      dir = join(work, suite);
      mkdirSync(dir);
      mkdirSync(join(archives, 'partial'), { recursive: true });
      execFileSync('tar', ['-xpf', debianTree(suite), '-C', dir, '--numeric-owner']);
      copyFileSync('/etc/resolv.conf', join(dir, 'etc/resolv.conf'));
      copyFileSync(deb.path, join(dir, 'tmp/kexec-ts.deb'));
      sh('apt-get update -q >/dev/null');
      // What apt would install with the package: its dependencies (nodejs among them) and recommends.
      const plan = [...sh('apt-get install -s -q /tmp/kexec-ts.deb').matchAll(/^Inst (\S+) /gm)].map(
        (m) => m[1]!,
      );
      assert.ok(plan.includes('kexec-ts'), plan.join(' '));
      assert.ok(plan.includes('nodejs'), 'nodejs comes from Debian as a dependency');
      // Those first, marked automatic as apt marks a dependency, so the purge below can be checked
      // against a tree that differs from it by kexec-ts alone.
      const others = plan.filter((p) => p !== 'kexec-ts');
      sh(
        `apt-get install -y -q ${others.join(' ')} >/tmp/apt.log 2>&1 && apt-mark auto ${others.join(' ')} >/dev/null || { cat /tmp/apt.log; exit 1; }`,
      );
      base = snapshot(dir);
      const log = sh('apt-get install -y -q /tmp/kexec-ts.deb 2>&1');
      assert.match(log, /^0 upgraded, 1 newly installed, 0 to remove/m);
      assert.match(sh('node --version'), node);
      assert.match(
        sh(`dpkg-query -W -f='\${Status} \${Version}' kexec-ts`),
        new RegExp(`^install ok installed ${deb.version}$`),
      );
    });

    it('--version and --help answer, exit 0', () => {
      assert.match(sh('kexec-ts --version'), new RegExp(`^kexec-ts ${deb.version.replace(/\./g, '\\.')} `));
      assert.match(sh('kexec-ts --help'), /^Usage: kexec-ts /m);
      assert.equal(sh('command -v kexec-ts').trim(), '/usr/sbin/kexec-ts');
    });

    it('the man pages and the bash completion are where man and bash-completion look', () => {
      assert.match(sh('zcat /usr/share/man/man8/kexec-ts.8.gz'), /^\.TH KEXEC\\-TS 8 /);
      assert.match(sh('zcat /usr/share/man/man8/kexec-ts-vmcore.8.gz'), /^\\fB\\-\\-non\\-mmap\\fR$/m);
      const complete = (words: string) =>
        sh(
          `bash -c '. /usr/share/bash-completion/completions/kexec-ts; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _kexec_ts; echo "\${COMPREPLY[*]}"'`,
        ).trim();
      assert.equal(complete('kexec-ts vmcore s'), 'save');
      assert.equal(complete('kexec-ts kdump build-initrd --compress z'), 'zstd');
    });

    it('doctor --json reports on this machine as a chroot shows it', () => {
      const out = sh('kexec-ts doctor --json', (s) => s === 0 || s === 1);
      const report = JSON.parse(out) as {
        arch: string;
        kernelRelease: string;
        checks: { id: string; verdict: string }[];
      };
      assert.equal(report.kernelRelease, sh('uname -r').trim());
      assert.equal(report.arch, 'x86_64');
      // Root in the chroot (CapEff of /proc/self/status).
      assert.equal(report.checks.find((c) => c.id === 'cap-sys-boot')?.verdict, 'ok');
      assert.ok(report.checks.length > 5);
    });

    it('inspect --json reads a Debian kernel (bzImage, zstd payload) and an xz file (the lzma addon)', () => {
      copyFileSync(KERNEL, join(dir, 'tmp/vmlinuz'));
      const info = JSON.parse(sh('kexec-ts inspect --json /tmp/vmlinuz'));
      assert.equal(info.type, 'bzImage64');
      assert.match(info.kernelVersion, /^6\.12\.107\+deb12-cloud-amd64 /);
      assert.equal(info.payloadCompression, 'zstd');
      copyFileSync(join(ROOT, 'test/fixtures/compress/hello.txt.xz'), join(dir, 'tmp/hello.txt.xz'));
      const xz = JSON.parse(sh('kexec-ts inspect --json /tmp/hello.txt.xz'));
      assert.equal(xz.compression, 'xz');
      assert.equal(xz.decompressedSize, statSync(join(ROOT, 'test/fixtures/compress/hello.txt')).size);
    });

    it('vmcore info, dmesg and save (ELF, zlib, lzo, snappy, zstd) on a dump, and reads back each file', () => {
      writeFileSync(
        join(dir, 'tmp/vmcore'),
        userVmcore(['Linux version 6.1.0-test (deb test)', 'Kernel panic - not syncing: deb test']),
      );
      assert.match(sh('kexec-ts vmcore dmesg /tmp/vmcore'), /Kernel panic - not syncing: deb test/);
      assert.match(sh('kexec-ts vmcore info /tmp/vmcore'), /6\.1\.0-test/);
      for (const [name, flag] of [
        ['elf', '-E'],
        ['zlib', '-c'],
        ['lzo', '-l'],
        ['snappy', '-p'],
        ['zstd', '-z'],
      ] as const) {
        const said = sh(`kexec-ts vmcore save ${flag} /tmp/vmcore /tmp/out-${name}`);
        // The native code each one runs on: koffi + the system's libzstd (Node 18 and 20 have no zstd in
        // node:zlib) and liblzo2 (a Depends), the snappy addon.
        const engine = {
          elf: /^saved \d+ bytes/,
          zlib: /zlib by node:zlib/,
          lzo: /lzo by liblzo2 2\./,
          snappy: /snappy by snappy \(napi-rs\)/,
          zstd: /zstd by libzstd 1\./,
        }[name];
        assert.match(said, engine, name);
        assert.match(
          sh(`kexec-ts vmcore dmesg /tmp/out-${name}`),
          /Kernel panic - not syncing: deb test/,
          name,
        );
      }
      assert.doesNotMatch(sh('ls /tmp'), /incomplete/);
    });

    it('kdump build-initrd packs the installed node, kexec-ts, its addons and the libraries it dlopens', () => {
      writeFileSync(
        join(dir, 'tmp/kdump.conf'),
        'KERNEL=/tmp/vmlinuz\nNODE_FROM=initrd\nFORMAT=kdump\nCOMPRESSION=zstd\n',
      );
      // To the default INITRD, /var/lib/kexec-ts/kdump-initrd.img, which purge must remove (postrm).
      sh('kexec-ts kdump build-initrd --config /tmp/kdump.conf --compress zstd >/dev/null');
      const img = listInitramfs(new Uint8Array(readFileSync(join(dir, 'var/lib/kexec-ts/kdump-initrd.img'))));
      assert.equal(img.segments[0]!.compression, 'zstd');
      const names = new Set(img.members.map((m) => m.name));
      for (const n of [
        'init',
        'bin/node',
        'opt/kexec-ts/node_modules/kexec-ts/dist/src/bin/kexec-ts.js',
        `opt/kexec-ts/node_modules/@koromix/koffi-linux-${process.arch}/package.json`,
        'opt/kexec-ts/node_modules/snappy/package.json',
      ])
        assert.ok(names.has(n), `missing ${n}`);
      // Node 18 and 20 have no zstd in node:zlib: the capture kernel's `vmcore save -z` dlopens libzstd.
      for (const soname of ['libzstd.so.1', 'liblzo2.so.2'])
        assert.ok(
          [...names].some((n) => n.endsWith(`/${soname}`)),
          `no ${soname} in the image`,
        );
    });

    it('ships the kdump unit disabled and the conffile; nothing was started or enabled', () => {
      assert.match(
        sh('cat /usr/lib/systemd/system/kexec-ts-kdump.service'),
        /^ExecStart=\/usr\/sbin\/kexec-ts kdump load$/m,
      );
      assert.equal(
        sh('ls /etc/systemd/system/multi-user.target.wants/ 2>/dev/null | grep kexec-ts || true'),
        '',
      );
      assert.match(
        sh(`dpkg-query -W -f='\${Conffiles}' kexec-ts`),
        /\/etc\/kexec-ts\/kdump\.conf [0-9a-f]{32}/,
      );
      // kdump reads the shipped conffile (all defaults) and says what is missing here, as an error of its own.
      const status = sh('kexec-ts kdump status 2>&1', (s) => s === 0 || s === 1);
      assert.doesNotMatch(status, /internal error|kdump\.conf:\d+/);
    });

    it('purge leaves the tree as it was before the install, but for dpkg and apt records', () => {
      sh('apt-get purge -y -q kexec-ts >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }');
      assert.equal(sh(`dpkg-query -W -f='\${Status}' kexec-ts 2>&1 || true`).includes('installed'), false);
      const now = snapshot(dir);
      const added = [...now].filter((p) => !base.has(p) && !ALLOWED_LEFTOVER.test(p));
      const removed = [...base].filter((p) => !now.has(p) && !ALLOWED_LEFTOVER.test(p));
      assert.deepEqual(added, [], 'left behind or changed');
      assert.deepEqual(removed, [], 'removed from the system or changed');
      assert.equal(existsSync(join(dir, 'etc/kexec-ts')), false);
      assert.equal(existsSync(join(dir, 'var/lib/kexec-ts')), false);
      // What came with it goes with autoremove: nodejs was a dependency, not a choice of the user.
      sh('apt-get autoremove --purge -y -q >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }');
      assert.equal(sh(`dpkg-query -W -f='\${Status}' nodejs 2>&1 || true`).includes('installed'), false);
    });
  });
}
