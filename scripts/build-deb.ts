// `npm run deb`: the Debian package kexec-ts_VERSION_ARCH.deb, built with dpkg-deb from the compiled JS
// (dist/src), the npm runtime dependencies this machine installed (their prebuilt native addons for its
// architecture), and packaging/deb/ (control, maintainer scripts, copyright, conffile). No debhelper:
// the package is a copy of files; docs/packaging.md explains the layout and every choice.
//
//   node dist/scripts/build-deb.js [--out DIR]     writes DIR/kexec-ts_VERSION_ARCH.deb (default dist/deb)
//
// Needs dpkg-deb and dpkg-shlibdeps (package dpkg-dev), for the native addons' library dependencies.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { runtimeDependencies } from '../src/initramfs/index.js';
import { systemdUnit, UNIT_NAME } from '../src/kdump/service/unit.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = join(ROOT, 'packaging/deb');
/** Where the program lives in the package, and the command that runs it. */
export const LIB_DIR = '/usr/lib/kexec-ts';
export const BIN_PATH = '/usr/sbin/kexec-ts';
export const CONFFILE = '/etc/kexec-ts/kdump.conf';
const DOC_DIR = '/usr/share/doc/kexec-ts';
const UNIT_DIR = '/usr/lib/systemd/system';

/**
 * Files of an npm package that the program never reads at run time: documentation (tslib ships its own as
 * HTML and a CopyrightNotice.txt), types, sources, tests,
 * musl builds, license files (their texts are in the package's copyright file, policy 12.5), and the
 * package's own commands (`bin`: kexec-ts calls none of them).
 */
function unusedIn(dir: string): (rel: string) => boolean {
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bins = new Set(
    (typeof pj.bin === 'string' ? [pj.bin] : Object.values(pj.bin ?? {})).map((b) => b.replace(/^\.\//, '')),
  );
  return (rel) => {
    const base = rel.split('/').pop()!;
    return (
      bins.has(rel) ||
      /^(license|licence|copying|copyrightnotice)/i.test(base) ||
      /\.(d\.ts|d\.mts|d\.cts|map|md|markdown|ts|html?)$/i.test(base) ||
      /^(changelog|readme|history|authors)/i.test(base) ||
      /(^|\/)(test|tests|doc|docs|typings|example|examples)(\/|$)/.test(rel) ||
      // Prebuilt binaries for musl: Debian is glibc (the addon loaders pick the glibc file there).
      /(^|\/)musl[_-]/.test(rel)
    );
  };
}

/**
 * Strips a prebuilt addon as dh_strip strips a shared library (debhelper's dh_strip): symbols not needed
 * for dynamic linking, and the .comment and .note sections. Node.js finds napi_register_module_v1 in the
 * dynamic symbol table, which stays.
 */
function stripAddon(path: string): void {
  execFileSync('strip', ['--remove-section=.comment', '--remove-section=.note', '--strip-unneeded', path]);
}

function copyTree(from: string, to: string, skip: (rel: string) => boolean, base = from): void {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const rel = relative(base, src);
    if (skip(rel)) continue;
    const dst = join(to, e.name);
    if (e.isDirectory()) copyTree(src, dst, skip, base);
    else if (e.isFile()) {
      mkdirSync(to, { recursive: true });
      copyFileSync(src, dst);
      chmodSync(dst, 0o644);
    }
  }
}

function write(root: string, path: string, data: string | Uint8Array, mode = 0o644): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  chmodSync(p, mode);
}

/** gzip -9n: no name or time stamp in the header, so the same input gives the same bytes. */
const gzip = (data: string | Uint8Array) => gzipSync(data, { level: 9 });

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * dpkg-shlibdeps' Depends for the native addons (libc6 (>= 2.x), libgcc-s1, ...), from Debian's symbols
 * files. `stage` holds debian/control and the tree in debian/kexec-ts. Its warnings are off: the addons' napi_ and uv_ symbols come from the node executable,
 * not from a library, and the unused libraries they link are upstream's build choice.
 */
function shlibsDepends(stage: string, root: string, objects: string[]): string {
  // dpkg-shlibdeps finds a package's root by its DEBIAN directory.
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(stage, 'debian/control'), 'Source: kexec-ts\n\nPackage: kexec-ts\nArchitecture: any\n');
  const out = execFileSync(
    'dpkg-shlibdeps',
    ['--warnings=0', '-O', ...objects.map((o) => join(relative(stage, root), o))],
    {
      cwd: stage,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const m = /^shlibs:Depends=(.*)$/m.exec(out);
  if (!m) throw new Error(`dpkg-shlibdeps printed no shlibs:Depends: ${out}`);
  return m[1]!;
}

/**
 * Where the man pages of package.json's `man` field (a path or a list, as npm reads it) go in the
 * package: `/usr/share/man/manN/NAME.N.gz`, N from the file name (kexec-ts.8 -> man8).
 */
export function manPages(man: string | string[] | undefined): { src: string; dest: string }[] {
  return (typeof man === 'string' ? [man] : (man ?? [])).map((src) => {
    const m = /([^/]+\.([1-9])[a-z]*)$/.exec(src);
    if (!m) throw new Error(`package.json man: ${src} does not end in a section number (NAME.8)`);
    return { src, dest: `/usr/share/man/man${m[2]}/${m[1]}.gz` };
  });
}

/** The shell completions the build generates (scripts/build-shell-files.ts) and where the package puts them. */
export const COMPLETIONS = [
  { src: 'dist/completion/kexec-ts.bash', dest: '/usr/share/bash-completion/completions/kexec-ts' },
  { src: 'dist/completion/_kexec-ts', dest: '/usr/share/zsh/vendor-completions/_kexec-ts' },
] as const;

/** dpkg's Installed-Size: KiB, each file's size rounded up, each directory and link counting 1. */
function installedSize(root: string): number {
  let kib = 0;
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        kib += 1;
        visit(p);
      } else kib += e.isFile() ? Math.ceil(statSync(p).size / 1024) : 1;
    }
  };
  for (const top of readdirSync(root)) if (top !== 'DEBIAN') visit(join(root, top));
  return kib;
}

/** The date of the changelog's newest entry (its ` -- NAME <MAIL>  DATE` line), in seconds. */
function changelogEpoch(changelog: string): number {
  const date = /^ -- .+? {2}(.+)$/m.exec(changelog)?.[1];
  const ms = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(ms)) throw new Error('packaging/deb/changelog: no trailer line with a date');
  return Math.floor(ms / 1000);
}

export interface DebResult {
  path: string;
  version: string;
  arch: string;
  bytes: number;
  installedKiB: number;
  files: number;
  depends: string;
}

export function buildDeb(outDir = join(ROOT, 'dist/deb')): DebResult {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const version: string = pkg.version;
  const changelog = readFileSync(join(PKG, 'changelog'), 'utf8');
  const top = /^kexec-ts \(([^)]+)\)/.exec(changelog)?.[1];
  if (top !== version)
    throw new Error(`packaging/deb/changelog starts at ${top}, package.json is ${version}: add an entry`);
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  if (!existsSync(join(ROOT, 'dist/src/bin/kexec-ts.js')))
    throw new Error('dist/src is not built: npm run build');
  const stage = mkdtempSync(join(tmpdir(), 'kexec-ts-deb-'));
  const root = join(stage, 'debian/kexec-ts');
  try {
    // The program: compiled JS without source maps or declarations (the .ts sources are not shipped), and
    // without the shebang (the /usr/sbin wrapper names /usr/bin/node).
    const lib = join(root, LIB_DIR);
    copyTree(join(ROOT, 'dist/src'), join(lib, 'dist/src'), (r) => /\.(map|d\.ts)$/.test(r));
    for (const f of walk(join(lib, 'dist/src')))
      if (f.endsWith('.js')) {
        const text = readFileSync(f, 'utf8')
          .replace(/^#!.*\n/, '')
          .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
        writeFileSync(f, text);
      }
    const deps = runtimeDependencies(ROOT);
    const runtime = {
      name: pkg.name,
      version,
      description: pkg.description,
      license: pkg.license,
      type: pkg.type,
      dependencies: pkg.dependencies,
      optionalDependencies: pkg.optionalDependencies,
    };
    write(root, `${LIB_DIR}/package.json`, `${JSON.stringify(runtime, null, 2)}\n`);
    for (const [name, dir] of deps) copyTree(dir, join(lib, 'node_modules', name), unusedIn(dir));
    write(root, BIN_PATH, readFileSync(join(PKG, 'kexec-ts')), 0o755);
    write(root, `${UNIT_DIR}/${UNIT_NAME}`, systemdUnit(BIN_PATH, [`file:${DOC_DIR}/kdump-service.md.gz`]));
    write(root, CONFFILE, readFileSync(join(PKG, 'kdump.conf')));
    write(root, '/usr/share/lintian/overrides/kexec-ts', readFileSync(join(PKG, 'lintian-overrides')));
    // Documentation: copyright and changelog (policy 12.5, 12.7), the README and the design documents.
    write(root, `${DOC_DIR}/copyright`, readFileSync(join(PKG, 'copyright')));
    write(root, `${DOC_DIR}/changelog.gz`, gzip(changelog));
    write(root, `${DOC_DIR}/README.md.gz`, gzip(readFileSync(join(ROOT, 'README.md'))));
    for (const d of readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md')))
      write(root, `${DOC_DIR}/${d}.gz`, gzip(readFileSync(join(ROOT, 'docs', d))));
    // Man pages: those package.json's `man` field lists (generated from the command tables).
    for (const m of manPages(pkg.man)) write(root, m.dest, gzip(readFileSync(join(ROOT, m.src))));
    // Shell completions (generated from the same tables), where bash-completion and zsh look for them.
    for (const c of COMPLETIONS) write(root, c.dest, readFileSync(join(ROOT, c.src)));

    const objects = walk(root)
      .map((p) => relative(root, p))
      .filter((p) => p.endsWith('.node'));
    for (const o of objects) stripAddon(join(root, o));
    const depends = shlibsDepends(stage, root, objects);
    const control = readFileSync(join(PKG, 'control'), 'utf8')
      .replace('@VERSION@', version)
      .replace('@ARCH@', arch)
      .replace('@INSTALLED_SIZE@', String(installedSize(root)))
      .replace('@SHLIBS@', depends);
    const files = walk(root).filter((p) => lstatSync(p).isFile());
    const md5sums = files
      .map((p) => `${createHash('md5').update(readFileSync(p)).digest('hex')}  ${relative(root, p)}\n`)
      .sort()
      .join('');
    write(root, 'DEBIAN/control', control);
    write(root, 'DEBIAN/conffiles', `${CONFFILE}\n`);
    write(root, 'DEBIAN/md5sums', md5sums);
    for (const s of ['postinst', 'prerm', 'postrm'])
      write(root, `DEBIAN/${s}`, readFileSync(join(PKG, s)), 0o755);
    const dirs = (d: string): string[] => [
      d,
      ...readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) => dirs(join(d, e.name))),
    ];
    for (const d of dirs(root)) chmodSync(d, 0o755);
    // Reproducible: every file and directory dated by the changelog entry, as SOURCE_DATE_EPOCH dates the
    // archive members (dpkg-deb), so the same tree gives the same .deb.
    const epoch = changelogEpoch(changelog);
    for (const p of [...walk(root), ...dirs(root)]) utimesSync(p, epoch, epoch);

    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, `kexec-ts_${version}_${arch}.deb`);
    // --root-owner-group: every file root:root without fakeroot; xz as dpkg-deb's default, made explicit.
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, path], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    });
    return {
      path,
      version,
      arch,
      bytes: statSync(path).size,
      installedKiB: installedSize(root),
      files: files.length,
      depends,
    };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const r = buildDeb(i > 0 ? process.argv[i + 1] : undefined);
  console.log(
    `${r.path}: ${r.bytes} bytes, Installed-Size ${r.installedKiB} KiB, ${r.files} files; shlibs ${r.depends}`,
  );
}
