// `kexec-ts lab build`: the guest initramfs. Output (cached under builds/<key>/, key = hash of inputs):
//   rootfs.img   archive A: busybox, node + libs, installed kexec-ts, kexec-tools, capture.img, /lab/*
//   initrd.img   A + B for QEMU, where B holds /boot/initrd.img (= A) and /boot/vmlinuz, so the guest
//                can kexec into itself and the second kernel boots A alone.
//   capture.img  busybox-only initramfs for a kdump capture kernel (also inside A at /boot/capture.img).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LabError } from '../errors.js';
import { decompress } from '../formats/compress/decompress.js';
import { type Compression, InitramfsTree, kexecTsPackageDir, writeCpio } from '../initramfs/index.js';
import { realSys } from '../sys/index.js';
import { LIBLZO2, liblzo2ForImage } from '../sys/liblzo2.js';
import type { Sys } from '../sys/types.js';
import { run } from './exec.js';
import { CAPTURE_INIT, CAPTURE_MODULES, KEXEC_TS_WRAPPER, MAIN_INIT, PROFILE } from './guest-scripts.js';
import { labPaths } from './paths.js';
import type { LabSetup } from './setup.js';

export type { Compression } from '../initramfs/index.js';
/** Fastest to boot under TCG (measured, see docs/lab.md). */
export const DEFAULT_COMPRESSION: Compression = 'none';
/** Bump when the guest layout changes so cached builds are not reused. */
const LAYOUT_VERSION = 5;

export interface LabBuildOptions {
  setup: LabSetup;
  compression?: Compression;
  /** Package root of kexec-ts (holding package.json and dist/); default: the running copy. */
  repoRoot?: string;
  /** Reads the host files the images take and runs npm, ldd and busybox; default the real one. */
  sys?: Sys;
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
  const sys = opts.sys ?? realSys();
  const repo = opts.repoRoot ?? kexecTsPackageDir(sys);
  const entry = join(repo, 'dist/src/bin/kexec-ts.js');
  if (!existsSync(entry)) throw new LabError(`${entry} missing`, { hint: 'run "npm run build" first' });
  const builds = labPaths(setup.root).builds;
  await mkdir(builds, { recursive: true });

  const tarball = await npmPack(sys, repo, builds);
  const node = nodeBinary(sys, repo);
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
    sys,
    hint: 'npm must reach the registry (or its cache) for kexec-ts dependencies',
  });
  await rm(tarball, { force: true });
  const nodeVersion = (await run([node, '--version'], { sys })).stdout.trim();
  const lzo = liblzo2();

  // Capture image: busybox, plus the virtio disk driver the capture init loads for lab.dump=. A module
  // shipped only xz-compressed (Debian 6.12: virtio_blk.ko.xz) is stored decompressed: busybox insmod
  // loads plain .ko files only. Modules with neither file are built in (6.12's virtio, virtio_pci).
  const capture = new InitramfsTree(sys);
  addBase(capture, setup.busybox, CAPTURE_INIT, 'kexec-ts-capture');
  const drivers = join(dirname(dirname(setup.vmlinuz)), 'lib/modules', setup.kernelRelease, 'kernel/drivers');
  for (const m of CAPTURE_MODULES) {
    const guest = `/lib/modules/${setup.kernelRelease}/kernel/drivers/${m}`;
    const host = join(drivers, m);
    if (existsSync(host)) capture.file(guest, host, { mode: 0o644 });
    else if (existsSync(`${host}.xz`))
      capture.bytes(guest, decompress(sys.readFile(`${host}.xz`), undefined, 'xz'), { mode: 0o644 });
  }
  const capturePath = join(tmp, 'capture.img');
  await writeCpio(capturePath, capture.entries, { sys });

  const nonce = randomBytes(16).toString('hex');
  const blob = randomBytes(1 << 20);
  const a = new InitramfsTree(sys);
  addBase(a, setup.busybox, MAIN_INIT, 'kexec-ts-lab');
  a.addBinary(node, { as: '/bin/node' });
  a.file(lzo.guest, lzo.host, { mode: 0o755 });
  const libraryDirs = setup.kexecLibDirs;
  a.addBinary(setup.kexecBinary, { as: '/sbin/kexec', libraryDirs });
  for (const extra of ['vmcore-dmesg']) {
    const p = join(dirname(setup.kexecBinary), extra);
    if (existsSync(p)) a.addBinary(p, { as: `/sbin/${extra}`, libraryDirs });
  }
  // dummy.ko gives tests a network interface to watch: exec must not take it down when it refuses.
  const modules = `/lib/modules/${setup.kernelRelease}`;
  const dummy = join(dirname(dirname(setup.vmlinuz)), modules, 'kernel/drivers/net/dummy.ko');
  if (existsSync(dummy)) a.file(`${modules}/kernel/drivers/net/dummy.ko`, dummy, { mode: 0o644 });
  // As on a Debian install: `kexec-ts doctor` reads the kernel config from /boot/config-RELEASE.
  a.file(`/boot/config-${setup.kernelRelease}`, setup.kernelConfigPath, { mode: 0o644 });
  // What `npm install` put in the prefix: kexec-ts and its runtime dependencies, other platforms' pruned.
  a.addNodePackage(join(prefix, 'node_modules/kexec-ts'), { into: '/opt/kexec-ts/node_modules' });
  a.bytes('/bin/kexec-ts', KEXEC_TS_WRAPPER, { mode: 0o755 });
  a.file('/boot/capture.img', capturePath);
  a.bytes('/lab/initrd-id', `${nonce}\n`);
  a.bytes('/lab/blob', blob);
  a.bytes(
    '/lab/info',
    `kernel_release=${setup.kernelRelease}\nkernel_package=${setup.kernelPackage}\nnode=${nodeVersion}\n`,
  );
  const rootfs = join(tmp, 'rootfs.img');
  // The kernel's initramfs parser wants the archive after a compressed one on a 4-byte boundary.
  await writeCpio(rootfs, a.entries, { sys, compression, align: 4 });

  const b = new InitramfsTree(sys);
  b.file('/boot/initrd.img', rootfs);
  b.file('/boot/vmlinuz', setup.vmlinuz);
  const rawB = join(tmp, 'boot.cpio');
  await writeCpio(rawB, b.entries, { sys });
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

/** The project pins Node with the `node` npm package; an installed copy falls back to the running node. */
function nodeBinary(sys: Sys, repo: string): string {
  const pinned = join(repo, 'node_modules/node/bin/node');
  return sys.realPath(existsSync(pinned) ? pinned : process.execPath);
}

async function npmPack(sys: Sys, repo: string, dest: string): Promise<string> {
  const r = await run(['npm', 'pack', '--json', '--pack-destination', dest, repo], { cwd: repo, sys });
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

function addBase(t: InitramfsTree, busybox: string, init: string, hostname: string): void {
  for (const d of ['/proc', '/sys', '/dev', '/tmp', '/run', '/mnt', '/root', '/var/tmp', '/etc']) t.dir(d);
  t.device('chardev', '/dev/console', 5, 1);
  t.device('chardev', '/dev/ttyS0', 4, 64);
  t.device('chardev', '/dev/null', 1, 3);
  t.addBusybox(busybox);
  t.bytes('/init', init, { mode: 0o755 });
  t.bytes('/etc/hostname', `${hostname}\n`);
  t.bytes('/etc/profile', PROFILE);
  t.bytes('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  t.bytes('/etc/group', 'root:x:0:\n');
}

async function concat(parts: string[], output: string): Promise<void> {
  const out = createWriteStream(output);
  for (const p of parts) await pipeline(createReadStream(p), out, { end: false });
  out.end();
  await new Promise<void>((r) => out.on('close', () => r()));
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
