// The files of an initramfs, as a list of cpio entries: parent directories appear on demand, the first
// entry for a path wins (libc is listed by ldd for every binary), and whole host pieces go in with one
// call each: a directory, a binary with its libraries and loader, busybox with its applets, an npm
// package with its runtime dependencies. Host files are read, and programs run, through Sys.
import { dirname, join, relative } from 'node:path';
import { StateError } from '../errors.js';
import type { Sys } from '../sys/types.js';
import { foreignPrebuild, nodePlatform, runtimeDependencies } from './node-package.js';
import { sharedLibraries } from './shared-libs.js';

/** Permission bits and owner; mode defaults to 0755 for directories, the source's for files, else 0644. */
export interface Owner {
  mode?: number;
  uid?: number;
  gid?: number;
}

export type CpioEntry =
  | ({ kind: 'dir'; path: string } & Owner)
  | ({ kind: 'file'; path: string; source: string } & Owner)
  | ({ kind: 'bytes'; path: string; data: Uint8Array | string } & Owner)
  | ({ kind: 'symlink'; path: string; target: string } & Owner)
  | ({ kind: 'chardev'; path: string; major: number; minor: number } & Owner)
  | ({ kind: 'blockdev'; path: string; major: number; minor: number } & Owner);

export interface BinaryOptions extends Owner {
  /** Path in the image; default the host path. */
  as?: string;
  /**
   * Library directories of .debs unpacked on the host (dpkg-deb -x), searched before the system's; what
   * the binary loads from them goes to the Debian multiarch directory, as an installed package has it.
   */
  libraryDirs?: readonly string[];
}

export interface NodePackageOptions {
  /** The image's node_modules directory: the package and each dependency go below it. */
  into: string;
  /** Paths of the package itself to take (its package.json and dist/src); default all but node_modules. */
  only?: readonly string[];
  /** Files of the package itself to leave out (source maps). */
  skip?: (rel: string) => boolean;
}

/** The Debian multiarch library directory of each architecture (where a .deb's libraries go). */
export const MULTIARCH_LIBDIR = {
  x86_64: '/usr/lib/x86_64-linux-gnu',
  aarch64: '/usr/lib/aarch64-linux-gnu',
  riscv64: '/usr/lib/riscv64-linux-gnu',
} as const;

const trim = (path: string) => path.replace(/\/+$/, '');

export class InitramfsTree {
  readonly entries: CpioEntry[] = [];
  private readonly seen = new Set<string>(['']);

  constructor(readonly sys: Sys) {}

  has(path: string): boolean {
    return this.seen.has(trim(path));
  }

  /** Adds `e` unless its path is taken, after its parent directories. */
  add(e: CpioEntry): void {
    const path = trim(e.path);
    if (this.seen.has(path)) return;
    this.dir(dirname(path));
    this.seen.add(path);
    this.entries.push(e);
  }

  dir(path: string, owner: Owner = {}): void {
    const p = trim(path);
    if (p !== '' && p !== '/') this.add({ kind: 'dir', path: p, ...owner });
  }

  file(path: string, source: string, owner: Owner = {}): void {
    this.add({ kind: 'file', path, source, ...owner });
  }

  bytes(path: string, data: Uint8Array | string, owner: Owner = {}): void {
    this.add({ kind: 'bytes', path, data, ...owner });
  }

  symlink(path: string, target: string): void {
    this.add({ kind: 'symlink', path, target });
  }

  device(kind: 'chardev' | 'blockdev', path: string, major: number, minor: number, owner: Owner = {}): void {
    this.add({ kind, path, major, minor, ...owner });
  }

  /** A host directory tree, symlinks kept as symlinks; `skip` sees paths relative to `host`. */
  copyDir(guest: string, host: string, skip: (rel: string) => boolean = () => false, rel = ''): void {
    this.dir(guest);
    for (const name of [...(this.sys.listDir(host) ?? [])].sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const h = join(host, name);
      const g = `${trim(guest)}/${name}`;
      const st = this.sys.fileStat(h);
      if (st?.kind === 'symlink') this.symlink(g, this.sys.readLink(h));
      else if (st?.kind === 'dir') this.copyDir(g, h, skip, r);
      else if (st?.kind === 'file') this.file(g, h);
    }
  }

  /** The libraries and loader `binary` needs, each at its host path (see BinaryOptions), mode 0755. */
  addLibraries(binary: string, libraryDirs: readonly string[] = []): void {
    for (const lib of sharedLibraries(binary, { sys: this.sys, libraryDirs })) {
      const from = libraryDirs.find((d) => lib.startsWith(`${trim(d)}/`));
      const guest = from ? join(MULTIARCH_LIBDIR[this.sys.arch], relative(from, lib)) : lib;
      this.file(guest, this.sys.realPath(lib), { mode: 0o755 });
    }
  }

  /**
   * A host binary with everything it loads. A Debian binary is one call: `addBinary(join(root,
   * 'usr/bin/ssh'), { as: '/usr/bin/ssh', libraryDirs })` with the root and library directories of its
   * unpacked .deb and of the library packages the host lacks (src/lab/setup.ts fetchDeb, fetchMissingLibs).
   */
  addBinary(host: string, opts: BinaryOptions = {}): void {
    const { as, libraryDirs, ...owner } = opts;
    this.file(as ?? host, host, { mode: 0o755, ...owner });
    this.addLibraries(host, libraryDirs);
  }

  /** Busybox at /bin/busybox, its libraries (Debian's busybox is dynamic) and a link per applet. */
  addBusybox(host: string): void {
    this.addBinary(host, { as: '/bin/busybox' });
    const r = this.sys.execSync([host, '--list-full']);
    const applets = r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
    if (applets.length === 0)
      throw new StateError(`${host} --list-full listed no applets`, {
        hint: 'apt-get install busybox-static',
      });
    for (const a of applets) if (a !== 'bin/busybox') this.symlink(`/${a}`, '/bin/busybox');
  }

  /**
   * An npm package with its runtime dependencies below `into` (where Node resolves them as on the host),
   * without other platforms' prebuilds, and the libraries of the native addons that remain.
   * Returns the package's directory in the image.
   */
  addNodePackage(pkgDir: string, opts: NodePackageOptions): string {
    const platform = nodePlatform(this.sys.arch);
    const foreign = (rel: string) => foreignPrebuild(rel, platform);
    const name = JSON.parse(new TextDecoder().decode(this.sys.readFile(join(pkgDir, 'package.json')))).name;
    const self = `${trim(opts.into)}/${name}`;
    const before = this.entries.length;
    const own = (rel: string) => rel === 'node_modules' || foreign(rel) || (opts.skip?.(rel) ?? false);
    if (!opts.only) this.copyDir(self, pkgDir, own);
    for (const rel of opts.only ?? []) {
      const st = this.sys.fileStat(join(pkgDir, rel), true);
      if (st?.kind === 'dir') this.copyDir(`${self}/${rel}`, join(pkgDir, rel), (r) => own(`${rel}/${r}`));
      else if (st) this.file(`${self}/${rel}`, join(pkgDir, rel));
    }
    for (const [at, dir] of runtimeDependencies(pkgDir, this.sys)) {
      if (!foreign(at))
        this.copyDir(`${trim(opts.into)}/${at}`, dir, (r) => r === 'node_modules' || foreign(r));
    }
    for (const e of this.entries.slice(before))
      if (e.kind === 'file' && e.source.endsWith('.node')) this.addLibraries(e.source);
    return self;
  }
}
