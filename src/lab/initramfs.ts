// `kexec-ts lab build`: the guest initramfs. Output (cached under builds/<key>/, key = hash of inputs):
//   rootfs.img   archive A: busybox, node + libs, installed kexec-ts, kexec-tools, capture.img, /lab/*
//   initrd.img   A + B for QEMU, where B holds /boot/initrd.img (= A) and /boot/vmlinuz, so the guest
//                can kexec into itself and the second kernel boots A alone.
//   capture.img  busybox-only initramfs for a kdump capture kernel (also inside A at /boot/capture.img).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent, existsSync } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { LIBLZO2, liblzo2ForImage } from '../sys/liblzo2.js';
import { type CpioEntry, writeCpio } from './cpio.js';
import { run } from './exec.js';
import { CAPTURE_INIT, CAPTURE_MODULES, KEXEC_TS_WRAPPER, MAIN_INIT, PROFILE } from './guest-scripts.js';
import { labPaths } from './paths.js';
import type { LabSetup } from './setup.js';

export type Compression = 'none' | 'zstd' | 'gzip';
/** Fastest to boot under TCG (measured, see docs/lab.md). */
export const DEFAULT_COMPRESSION: Compression = 'none';
/** Bump when the guest layout changes so cached builds are not reused. */
const LAYOUT_VERSION = 4;

export interface LabBuildOptions {
  setup: LabSetup;
  compression?: Compression;
  /** Package root of kexec-ts (holding package.json and dist/); default: the running copy. */
  repoRoot?: string;
  log?: (line: string) => void;
}

export interface LabBuild {
  key: string;
  dir: string;
  /** Given to QEMU as -initrd (A + B). */
  initrd: string;
  /** Archive A; the guest has a copy at /boot/initrd.img. */
  rootfs: string;
  captureImage: string;
  kernel: string;
  kernelRelease: string;
  kernelPackage: string;
  /** Content of /lab/initrd-id. */
  nonce: string;
  /** sha256 of /lab/blob (1 MiB random). */
  blobSha256: string;
  compression: Compression;
  nodeVersion: string;
  sizes: { rootfs: number; initrd: number; capture: number };
}

export async function labBuild(opts: LabBuildOptions): Promise<LabBuild> {
  const log = opts.log ?? (() => {});
  const { setup } = opts;
  const compression = opts.compression ?? DEFAULT_COMPRESSION;
  const repo = opts.repoRoot ?? (await packageRoot());
  const entry = join(repo, 'dist/src/bin/kexec-ts.js');
  if (!existsSync(entry)) throw new LabError(`${entry} missing`, { hint: 'run "npm run build" first' });
  const builds = labPaths(setup.root).builds;
  await mkdir(builds, { recursive: true });

  const tarball = await npmPack(repo, builds);
  const node = await nodeBinary(repo);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        LAYOUT_VERSION,
        compression,
        tarball: await sha256File(tarball),
        node: await sha256File(node),
        kernel: await sha256File(setup.vmlinuz),
        kexec: await sha256File(setup.kexecBinary),
        busybox: await sha256File(setup.busybox),
        scripts: [MAIN_INIT, CAPTURE_INIT, PROFILE, KEXEC_TS_WRAPPER],
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const dir = join(builds, key);
  const infoPath = join(dir, 'build.json');
  if (existsSync(infoPath)) {
    await rm(tarball, { force: true });
    return JSON.parse(await readFile(infoPath, 'utf8')) as LabBuild;
  }

  log(`building guest initramfs ${key}`);
  const tmp = `${dir}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const prefix = join(tmp, 'npm');
  await mkdir(prefix);
  await run(['npm', 'install', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', tarball], {
    hint: 'npm must reach the registry (or its cache) for kexec-ts dependencies',
  });
  await rm(tarball, { force: true });
  await pruneForeignPrebuilds(prefix);

  const nodeVersion = (await run([node, '--version'])).stdout.trim();
  const nativeAddons = await findFiles(prefix, (p) => p.endsWith('.node'));
  const libs = await sharedLibs([node, ...nativeAddons], []);
  const lzo = liblzo2();
  const kexecLibs = await sharedLibs([setup.kexecBinary], setup.kexecLibDirs);

  // Capture image: busybox, plus the virtio disk driver the capture init loads for lab.dump=. A module
  // shipped only xz-compressed (Debian 6.12: virtio_blk.ko.xz) is stored decompressed: busybox insmod
  // loads plain .ko files only. Modules with neither file are built in (6.12's virtio, virtio_pci).
  const capture = new Tree();
  await addBase(capture, setup.busybox, CAPTURE_INIT, 'kexec-ts-capture');
  const drivers = join(dirname(dirname(setup.vmlinuz)), 'lib/modules', setup.kernelRelease, 'kernel/drivers');
  const plainMods = join(tmp, 'capture-modules');
  for (const m of CAPTURE_MODULES) {
    const guest = `/lib/modules/${setup.kernelRelease}/kernel/drivers/${m}`;
    const host = join(drivers, m);
    if (existsSync(host)) capture.file(guest, host, 0o644);
    else if (existsSync(`${host}.xz`)) {
      const plain = join(plainMods, m);
      await mkdir(dirname(plain), { recursive: true });
      await copyFile(`${host}.xz`, `${plain}.xz`);
      await run(['xz', '--decompress', `${plain}.xz`], { hint: 'apt-get install xz-utils' });
      capture.file(guest, plain, 0o644);
    }
  }
  const capturePath = join(tmp, 'capture.img');
  await writeCpio(capturePath, capture.entries);
  await rm(plainMods, { recursive: true, force: true });

  const nonce = randomBytes(16).toString('hex');
  const blob = randomBytes(1 << 20);
  const a = new Tree();
  await addBase(a, setup.busybox, MAIN_INIT, 'kexec-ts-lab');
  a.file('/bin/node', node, 0o755);
  for (const lib of libs) a.file(lib.guest, lib.host, 0o755);
  a.file(lzo.guest, lzo.host, 0o755);
  a.file('/sbin/kexec', setup.kexecBinary, 0o755);
  for (const lib of kexecLibs) a.file(lib.guest, lib.host, 0o755);
  for (const extra of ['vmcore-dmesg']) {
    const p = join(dirname(setup.kexecBinary), extra);
    if (existsSync(p)) a.file(`/sbin/${extra}`, p, 0o755);
  }
  // dummy.ko gives tests a network interface to watch: exec must not take it down when it refuses.
  const modules = `/lib/modules/${setup.kernelRelease}`;
  const dummy = join(dirname(dirname(setup.vmlinuz)), modules, 'kernel/drivers/net/dummy.ko');
  if (existsSync(dummy)) a.file(`${modules}/kernel/drivers/net/dummy.ko`, dummy, 0o644);
  // As on a Debian install: `kexec-ts doctor` reads the kernel config from /boot/config-RELEASE.
  a.file(`/boot/config-${setup.kernelRelease}`, setup.kernelConfigPath, 0o644);
  await a.tree('/opt/kexec-ts', prefix);
  a.bytes('/bin/kexec-ts', KEXEC_TS_WRAPPER, 0o755);
  a.file('/boot/capture.img', capturePath);
  a.bytes('/lab/initrd-id', `${nonce}\n`);
  a.bytes('/lab/blob', blob);
  a.bytes(
    '/lab/info',
    `kernel_release=${setup.kernelRelease}\nkernel_package=${setup.kernelPackage}\nnode=${nodeVersion}\n`,
  );
  const rawA = join(tmp, 'rootfs.cpio');
  await writeCpio(rawA, a.entries);
  const rootfs = join(tmp, 'rootfs.img');
  await compress(rawA, rootfs, compression);

  const b = new Tree();
  b.file('/boot/initrd.img', rootfs);
  b.file('/boot/vmlinuz', setup.vmlinuz);
  const rawB = join(tmp, 'boot.cpio');
  await writeCpio(rawB, b.entries);
  const initrd = join(tmp, 'initrd.img');
  await concat([rootfs, rawB], initrd);
  await rm(rawB);
  await rm(prefix, { recursive: true });

  const build: LabBuild = {
    key,
    dir,
    initrd: join(dir, 'initrd.img'),
    rootfs: join(dir, 'rootfs.img'),
    captureImage: join(dir, 'capture.img'),
    kernel: setup.vmlinuz,
    kernelRelease: setup.kernelRelease,
    kernelPackage: setup.kernelPackage,
    nonce,
    blobSha256: createHash('sha256').update(blob).digest('hex'),
    compression,
    nodeVersion,
    sizes: {
      rootfs: (await stat(rootfs)).size,
      initrd: (await stat(initrd)).size,
      capture: (await stat(capturePath)).size,
    },
  };
  await writeFile(join(tmp, 'build.json'), `${JSON.stringify(build, null, 2)}\n`);
  await rename(tmp, dir);
  await pruneOldBuilds(builds, key);
  log(`built ${build.initrd} (${(build.sizes.initrd / 2 ** 20).toFixed(0)} MiB)`);
  return build;
}

/** The directory holding kexec-ts's package.json, found from this module's location. */
export async function packageRoot(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(await readFile(pj, 'utf8')).name === 'kexec-ts') return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new LabError('cannot find the kexec-ts package root', { hint: 'run from the repo' });
    dir = up;
  }
}

/** The project pins Node with the `node` npm package; an installed copy falls back to the running node. */
async function nodeBinary(repo: string): Promise<string> {
  const pinned = join(repo, 'node_modules/node/bin/node');
  return realpath(existsSync(pinned) ? pinned : process.execPath);
}

async function npmPack(repo: string, dest: string): Promise<string> {
  const r = await run(['npm', 'pack', '--json', '--pack-destination', dest, repo], { cwd: repo });
  const name = (JSON.parse(r.stdout) as { filename: string }[])[0]?.filename;
  if (!name) throw new LabError('npm pack printed no filename');
  return join(dest, name);
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

interface Lib {
  host: string;
  guest: string;
}

/**
 * liblzo2.so.2, which `vmcore save -l` dlopens by soname (src/sys/liblzo2.ts), so the guest and a
 * capture kernel running from it compress LZO pages as on the host: the loaded file, under its soname in
 * the same directory (a system search path of the loader). It needs only libc, which node brings.
 * The lab's host packages include liblzo2-2 (setup.ts).
 */
function liblzo2(): Lib {
  const lzo = liblzo2ForImage();
  if (!lzo) throw new LabError(`${LIBLZO2} does not load on the host`, { hint: 'apt-get install liblzo2-2' });
  return { host: lzo.host, guest: lzo.image };
}

/** Shared libraries (and the loader) that `ldd` lists, placed at the same paths in the guest. */
async function sharedLibs(binaries: string[], extraDirs: string[]): Promise<Lib[]> {
  const env = { ...process.env, LD_LIBRARY_PATH: extraDirs.join(':') };
  const out = new Map<string, Lib>();
  for (const bin of binaries) {
    const r = await run(['ldd', bin], { env, allowFail: true });
    for (const line of r.stdout.split('\n')) {
      if (line.includes('not found'))
        throw new LabError(`ldd ${bin}: ${line.trim()}`, { hint: 'rerun lab setup' });
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (!m) continue;
      const host = m[1]!;
      const inExtra = extraDirs.find((d) => host.startsWith(`${d}/`));
      const guest = inExtra ? join('/usr/lib/x86_64-linux-gnu', relative(inExtra, host)) : host;
      out.set(guest, { host: await realpath(host), guest });
    }
  }
  return [...out.values()];
}

/** A list of cpio entries that creates parent directories on demand. */
class Tree {
  readonly entries: CpioEntry[] = [];
  private readonly dirs = new Set<string>(['']);
  private readonly paths = new Set<string>();
  dir(path: string, mode = 0o755): void {
    const p = path.replace(/\/+$/, '');
    if (this.dirs.has(p)) return;
    this.dir(dirname(p) === '/' ? '' : dirname(p));
    this.dirs.add(p);
    this.entries.push({ kind: 'dir', path: p, mode });
  }
  file(path: string, source: string, mode?: number): void {
    if (this.paths.has(path)) return; // libc etc. are listed by ldd for several binaries
    this.paths.add(path);
    this.dir(dirname(path));
    this.entries.push(
      mode === undefined ? { kind: 'file', path, source } : { kind: 'file', path, source, mode },
    );
  }
  bytes(path: string, data: Uint8Array | string, mode = 0o644): void {
    this.dir(dirname(path));
    this.entries.push({ kind: 'bytes', path, data, mode });
  }
  symlink(path: string, target: string): void {
    this.dir(dirname(path));
    this.entries.push({ kind: 'symlink', path, target });
  }
  chardev(path: string, major: number, minor: number): void {
    this.dir(dirname(path));
    this.entries.push({ kind: 'chardev', path, major, minor });
  }
  /** Copies a host directory tree, keeping symlinks as symlinks. */
  async tree(guest: string, host: string): Promise<void> {
    this.dir(guest);
    for (const name of (await readdir(host)).sort()) {
      const h = join(host, name);
      const g = `${guest}/${name}`;
      const st = await lstat(h);
      if (st.isSymbolicLink()) this.symlink(g, await readlink(h));
      else if (st.isDirectory()) await this.tree(g, h);
      else if (st.isFile()) this.file(g, h);
    }
  }
}

async function addBase(t: Tree, busybox: string, init: string, hostname: string): Promise<void> {
  for (const d of ['/proc', '/sys', '/dev', '/tmp', '/run', '/mnt', '/root', '/var/tmp', '/etc']) t.dir(d);
  t.chardev('/dev/console', 5, 1);
  t.chardev('/dev/ttyS0', 4, 64);
  t.chardev('/dev/null', 1, 3);
  t.file('/bin/busybox', busybox, 0o755);
  const list = (await run([busybox, '--list-full'])).stdout.split('\n').filter(Boolean);
  for (const applet of list) {
    if (applet === 'bin/busybox') continue;
    t.symlink(`/${applet}`, '/bin/busybox');
  }
  t.bytes('/init', init, 0o755);
  t.bytes('/etc/hostname', `${hostname}\n`);
  t.bytes('/etc/profile', PROFILE);
  t.bytes('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  t.bytes('/etc/group', 'root:x:0:\n');
}

async function compress(input: string, output: string, how: Compression): Promise<void> {
  if (how === 'none') await rename(input, output);
  else {
    const argv =
      how === 'zstd'
        ? ['zstd', '-q', '-f', '-3', '-T0', input, '-o', output]
        : ['sh', '-c', 'gzip -6 -c "$1" > "$2"', 'sh', input, output];
    await run(argv);
    await rm(input);
    // Kernel's initramfs parser wants the next archive on a 4-byte boundary.
    const size = (await stat(output)).size;
    if (size % 4 !== 0) await writeFile(output, Buffer.alloc(4 - (size % 4)), { flag: 'a' });
  }
}

async function concat(parts: string[], output: string): Promise<void> {
  const out = createWriteStream(output);
  for (const p of parts) await pipeline(createReadStream(p), out, { end: false });
  out.end();
  await new Promise<void>((r) => out.on('close', () => r()));
}

/**
 * Native addons ship prebuilt binaries for other platforms and for musl; the glibc x86_64 guest needs
 * neither, and ldd cannot resolve the musl ones.
 */
async function pruneForeignPrebuilds(prefix: string): Promise<void> {
  // koffi comes as its platform package (@koromix/koffi-linux-x64, src/sys/koffi.ts): only musl to drop.
  for (const e of await readdir(join(prefix, 'node_modules'), { withFileTypes: true, recursive: true })) {
    if (e.isDirectory() && /musl/.test(e.name))
      await rm(join(direntDir(e), e.name), { recursive: true, force: true });
  }
}

/** The directory of an entry of a recursive readdir: `parentPath` from Node 18.20 and 20.12, `path` before. */
function direntDir(e: Dirent): string {
  return e.parentPath ?? (e as Dirent & { path: string }).path;
}

async function findFiles(root: string, pred: (p: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && pred(e.name)) out.push(join(direntDir(e), e.name));
  }
  return out;
}

/** Keep the new build and the most recent other one; builds are hundreds of MB. */
async function pruneOldBuilds(builds: string, keep: string): Promise<void> {
  const dirs: { name: string; mtime: number }[] = [];
  for (const name of await readdir(builds)) {
    if (name === keep) continue;
    const st = await stat(join(builds, name));
    if (st.isDirectory()) dirs.push({ name, mtime: st.mtimeMs });
  }
  dirs.sort((x, y) => y.mtime - x.mtime);
  for (const d of dirs.slice(1)) await rm(join(builds, d.name), { recursive: true, force: true });
}
