// `kdump build-initrd`: a capture initramfs holding busybox, the resolved config, the MODULES, /init
// (init-script.ts) and, with NODE_FROM=initrd only, Node with the shared libraries it needs and kexec-ts
// with its runtime dependencies. With NODE_FROM=root (the default) the capture /init runs both from the
// crashed system's root file system, so the image is a few MB.
import { spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { FileError, StateError, UsageError } from '../../errors.js';
import { zstdCodec } from '../../formats/compress/zstd.js';
import { type CpioEntry, writeCpioStream } from '../../formats/cpio/writer.js';
import { liblzo2ForImage } from '../../sys/liblzo2.js';
import { libzstdForImage } from '../../sys/libzstd.js';
import { formatKdumpConfig, type KdumpConfig } from './config.js';
import { CAPTURE_ENV, KDUMP_INIT, KEXEC_TS_WRAPPER } from './init-script.js';

export type InitrdCompression = 'none' | 'gzip' | 'zstd';
export const BUSYBOX_PATHS = [
  '/bin/busybox',
  '/usr/bin/busybox',
  '/usr/lib/initramfs-tools/bin/busybox',
  '/sbin/busybox',
];
const PKG_DIR = '/opt/kexec-ts/node_modules';

export interface BuildInitrdOptions {
  output: string;
  config: KdumpConfig;
  /** The capture kernel (written into the image's config). */
  kernel: string;
  release: string;
  compression?: InitrdCompression;
  busybox?: string;
  node?: string;
  /** NODE_FROM=root with ROOT empty: the running system's root device (see runningRoot). */
  runningRoot?: string;
  log?: (line: string) => void;
}

export interface BuildInitrdResult {
  output: string;
  bytes: number;
  /** cpio bytes before compression. */
  unpacked: number;
  compression: InitrdCompression;
  files: number;
  node: string;
  busybox: string;
  modules: string[];
  nodeFrom: KdumpConfig['nodeFrom'];
  /** NODE_FROM=root: the device the capture /init mounts for Node and kexec-ts. */
  root?: string;
  /** The kexec-ts entry script the capture /init runs (a path on root, or in the image). */
  entry: string;
}

/**
 * The running root file system's device as the capture /init can find it: root= from /proc/cmdline when
 * it is a /dev/ path, UUID= or LABEL= (what the kernel itself mounted), else the source of / in
 * /proc/self/mountinfo when that is a /dev/ path. undefined when / is not on a block device
 * (an initramfs or network root): NODE_FROM=root then needs ROOT=.
 */
export function runningRoot(cmdline: string | undefined, mountinfo: string | undefined): string | undefined {
  const arg = (cmdline ?? '')
    .trim()
    .split(/\s+/)
    .filter((p) => p.startsWith('root='))
    .pop()
    ?.slice(5);
  if (arg && /^(\/dev\/|UUID=|LABEL=)/.test(arg)) return arg;
  for (const line of (mountinfo ?? '').split('\n')) {
    // mountinfo(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (f[4] === '/' && dash > 0 && f[dash + 2]?.startsWith('/dev/')) return f[dash + 2];
  }
  return undefined;
}

function run(argv: string[]): string | undefined {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 16 << 20 });
  return r.status === 0 ? r.stdout : undefined;
}

/** PT_INTERP of an ELF executable (the dynamic loader), read from its program headers. */
export function elfInterpreter(bytes: Uint8Array): string | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 64 || dv.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2) return undefined;
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > bytes.byteLength) return undefined;
    if (dv.getUint32(at, true) !== 3) continue; // PT_INTERP
    const off = Number(dv.getBigUint64(at + 8, true));
    const size = Number(dv.getBigUint64(at + 32, true));
    if (off + size > bytes.byteLength) return undefined;
    return Buffer.from(bytes.subarray(off, off + size))
      .toString('latin1')
      .replace(/\0.*$/s, '');
  }
  return undefined;
}

/** Libraries (and the loader) a binary needs: `ldd`, else the loader's own `--list` (busybox has no ldd). */
export function sharedLibraries(binary: string): string[] {
  let out = run(['ldd', binary]);
  if (out === undefined) {
    const head = readFileSync(binary).subarray(0, 64 << 10);
    const interp = elfInterpreter(head);
    if (!interp) return [];
    out = run([interp, '--list', binary]);
    if (out === undefined)
      throw new StateError(`${interp} --list ${binary} failed`, { hint: 'is ldd installed?' });
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    if (line.includes('not found')) throw new StateError(`${binary}: ${line.trim()}`);
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** kexec-ts's own package directory (holding its package.json), found from this module. */
export function kexecTsPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'kexec-ts') return dir;
    const up = dirname(dir);
    if (up === dir) throw new StateError('cannot find the kexec-ts package directory');
    dir = up;
  }
}

/** Node's lookup: node_modules/NAME in the requiring package's directory and every parent. */
function resolvePackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return realpathSync(p);
    if (dirname(dir) === dir) return undefined;
  }
}

/** Runtime dependencies (package.json "dependencies" and installed "optionalDependencies", transitively). */
export function runtimeDependencies(pkgDir: string): Map<string, string> {
  const found = new Map<string, string>();
  const queue = [pkgDir];
  while (queue.length) {
    const dir = queue.shift()!;
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const optional = new Set(Object.keys(pj.optionalDependencies ?? {}));
    // Native prebuilds come as optional dependencies (koffi's @koromix/koffi-linux-x64): the installed ones.
    for (const name of [...Object.keys(pj.dependencies ?? {}), ...optional]) {
      if (found.has(name)) continue;
      const at = resolvePackage(name, dir);
      if (!at && optional.has(name)) continue;
      if (!at) throw new StateError(`dependency ${name} of ${dir} not found`, { hint: 'npm install' });
      found.set(name, at);
      queue.push(at);
    }
  }
  return found;
}

/** Prebuilt native code for other platforms (koffi ships them all; musl builds fail ldd on glibc). */
function foreignPrebuild(rel: string): boolean {
  const platform = `${process.platform}_${process.arch}`;
  const m = /(?:^|\/)build\/koffi\/([^/]+)$/.exec(rel);
  return (m !== null && m[1] !== platform) || /(^|\/)[^/]*musl[^/]*$/.test(rel);
}

class Tree {
  readonly entries: CpioEntry[] = [];
  private readonly seen = new Set<string>(['']);
  dir(path: string): void {
    const p = path.replace(/\/+$/, '');
    if (this.seen.has(p)) return;
    this.dir(dirname(p) === '/' ? '' : dirname(p));
    this.seen.add(p);
    this.entries.push({ kind: 'dir', path: p });
  }
  add(e: CpioEntry): void {
    if (this.seen.has(e.path)) return;
    this.dir(dirname(e.path));
    this.seen.add(e.path);
    this.entries.push(e);
  }
  file(path: string, source: string, mode?: number): void {
    this.add(mode === undefined ? { kind: 'file', path, source } : { kind: 'file', path, source, mode });
  }
  async copy(guest: string, host: string, skip: (rel: string) => boolean, rel = ''): Promise<void> {
    this.dir(guest);
    for (const name of (await readdir(host)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const h = join(host, name);
      const st = await lstat(h);
      if (skip(r)) continue;
      if (st.isSymbolicLink())
        this.add({ kind: 'symlink', path: `${guest}/${name}`, target: await readlink(h) });
      else if (st.isDirectory()) await this.copy(`${guest}/${name}`, h, skip, r);
      else if (st.isFile()) this.file(`${guest}/${name}`, h);
    }
  }
}

/** MODULES entries to files: a path as is, a name searched under /lib/modules/RELEASE/kernel. */
export function resolveModules(names: string[], release: string): string[] {
  const root = `/lib/modules/${release}/kernel`;
  let all: string[] | undefined;
  return names.map((n) => {
    if (n.startsWith('/')) {
      if (!existsSync(n)) throw new FileError(n, 'ENOENT', { hint: 'MODULES= in the kdump config' });
      return n;
    }
    all ??= existsSync(root)
      ? (readdirSync(root, { recursive: true }) as string[]).map((p) => join(root, p))
      : [];
    const hit = all.find((p) => /\.ko(\.(xz|zst|gz))?$/.test(p) && basename(p).replace(/\.ko.*$/, '') === n);
    if (!hit)
      throw new FileError(`${root}/**/${n}.ko`, 'ENOENT', {
        hint: 'MODULES= names a module this kernel does not have',
      });
    return hit;
  });
}

/** CAPTURE_ENV: sourced by /init; the paths are checked to hold no shell characters. */
export function captureEnv(node: string, entry: string): string {
  for (const p of [node, entry])
    if (!/^\/[A-Za-z0-9._+@/-]+$/.test(p))
      throw new StateError(`path with spaces or shell characters: ${p}`, {
        hint: 'install Node and kexec-ts under plain paths',
      });
  return `NODE=${node}\nENTRY=${entry}\n`;
}

export async function buildCaptureInitrd(o: BuildInitrdOptions): Promise<BuildInitrdResult> {
  const log = o.log ?? (() => {});
  const compression = o.compression ?? 'gzip';
  const busybox = o.busybox ?? BUSYBOX_PATHS.find((p) => existsSync(p));
  if (!busybox || !existsSync(busybox))
    throw new StateError('no busybox found', {
      hint: `apt-get install busybox-static (looked at ${BUSYBOX_PATHS.join(', ')})`,
    });
  const node = realpathSync(o.node ?? process.execPath);
  const t = new Tree();
  for (const d of ['/proc', '/sys', '/dev', '/tmp', '/run', '/mnt', '/root', '/etc', '/var/crash']) t.dir(d);
  t.add({ kind: 'chardev', path: '/dev/console', major: 5, minor: 1 });
  t.add({ kind: 'chardev', path: '/dev/null', major: 1, minor: 3, mode: 0o666 });
  t.file('/bin/busybox', busybox, 0o755);
  const applets = run([busybox, '--list-full'])?.split('\n').filter(Boolean) ?? [];
  if (applets.length === 0) throw new StateError(`${busybox} --list-full listed no applets`);
  for (const a of applets)
    if (a !== 'bin/busybox') t.add({ kind: 'symlink', path: `/${a}`, target: '/bin/busybox' });
  t.add({ kind: 'bytes', path: '/init', data: KDUMP_INIT, mode: 0o755 });
  t.add({ kind: 'bytes', path: '/etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' });
  // Debian's busybox package is dynamic (busybox-static is not): its libraries come along.
  for (const lib of sharedLibraries(busybox)) t.file(lib, realpathSync(lib), 0o755);
  const pkg = kexecTsPackageDir();
  let entry = join(pkg, 'dist/src/bin/kexec-ts.js');
  let root: string | undefined;
  if (o.config.nodeFrom === 'root') {
    root = o.config.root || o.runningRoot;
    if (!root)
      throw new StateError('NODE_FROM=root: the running / is not on a block device and ROOT= is not set', {
        hint: 'set ROOT=/dev/... (the file system holding Node and kexec-ts) or NODE_FROM=initrd in the kdump config',
      });
    if (!o.config.root)
      for (const p of [node, entry])
        if (statSync(p).dev !== statSync('/').dev)
          throw new StateError(`${p} is not on the root file system, which the capture kernel mounts`, {
            hint: 'set ROOT= to the device holding it, or NODE_FROM=initrd',
          });
  } else {
    t.file('/bin/node', node, 0o755);
    const deps = runtimeDependencies(pkg);
    const addons: string[] = [];
    for (const [name, dir] of deps) {
      await t.copy(`${PKG_DIR}/${name}`, dir, foreignPrebuild);
    }
    for (const e of t.entries) if (e.kind === 'file' && e.source.endsWith('.node')) addons.push(e.source);
    for (const bin of [node, ...addons])
      for (const lib of sharedLibraries(bin)) t.file(lib, realpathSync(lib), 0o755);
    // `vmcore save -l` dlopens liblzo2.so.2 (src/sys/liblzo2.ts): the file this machine loads, under its
    // soname in the loader's directory it came from. Without it the capture kernel uses the JS encoder.
    const lzo = liblzo2ForImage();
    if (lzo) t.file(lzo.image, lzo.host, 0o755);
    // On a Node.js without zstd in node:zlib (< 22.15), zstd pages go through the system's libzstd
    // (formats/compress/zstd.ts), dlopened the same way.
    const zstd = libzstdForImage();
    if (zstd) t.file(zstd.image, zstd.host, 0o755);
    t.file(`${PKG_DIR}/kexec-ts/package.json`, join(pkg, 'package.json'));
    await t.copy(`${PKG_DIR}/kexec-ts/dist/src`, join(pkg, 'dist/src'), (r) => r.endsWith('.map'));
    t.add({ kind: 'bytes', path: '/bin/kexec-ts', data: KEXEC_TS_WRAPPER, mode: 0o755 });
    entry = `${PKG_DIR}/kexec-ts/dist/src/bin/kexec-ts.js`;
  }
  const nodeInImage = o.config.nodeFrom === 'root' ? node : '/bin/node';
  t.add({ kind: 'bytes', path: CAPTURE_ENV, data: captureEnv(nodeInImage, entry) });
  const modules = resolveModules(o.config.modules, o.release);
  for (const m of modules) t.file(m, m, 0o644);
  const cfg = { ...o.config, modules, root: root ?? o.config.root };
  t.add({ kind: 'bytes', path: '/etc/kexec-ts/kdump.conf', data: formatKdumpConfig(cfg, o.kernel) });
  const tmp = join(dirname(o.output), `.${basename(o.output)}.tmp-${process.pid}`);
  const file = createWriteStream(tmp, { mode: 0o600 });
  try {
    // pipeline() carries a write error (ENOSPC) back here instead of an unhandled 'error' event.
    const pass = new PassThrough();
    const done =
      compression === 'gzip'
        ? pipeline(pass, createGzip({ level: 6 }), file)
        : compression === 'zstd'
          ? pipeline(pass, zstdCodec().compressStream(), file)
          : pipeline(pass, file);
    const writing = writeCpioStream(pass, t.entries).then((n) => {
      pass.end();
      return n;
    });
    const [unpacked] = await Promise.all([writing, done]);
    renameSync(tmp, o.output);
    const bytes = statSync(o.output).size;
    log(
      `${o.output}: ${t.entries.length} entries, ${unpacked} bytes unpacked, ${bytes} bytes ${compression}`,
    );
    return {
      output: o.output,
      bytes,
      unpacked,
      compression,
      files: t.entries.length,
      node,
      busybox,
      modules,
      nodeFrom: o.config.nodeFrom,
      ...(root === undefined ? {} : { root }),
      entry,
    };
  } catch (e) {
    file.destroy();
    rmSync(tmp, { force: true });
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && !(e instanceof UsageError))
      throw new FileError(tmp, e.code, { cause: e });
    throw e;
  }
}
