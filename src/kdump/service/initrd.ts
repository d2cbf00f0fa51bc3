// `kdump build-initrd`: a capture initramfs holding busybox, the resolved config, the MODULES, /init
// (init-script.ts) and, with NODE_FROM=initrd only, Node with the shared libraries it needs and kexec-ts
// with its runtime dependencies. With NODE_FROM=root (the default) the capture /init runs both from the
// crashed system's root file system, so the image is a few MB.
import { basename, join } from 'node:path';
import { FileError, StateError } from '../../errors.js';
import { type Compression, InitramfsTree, kexecTsPackageDir, writeCpio } from '../../initramfs/index.js';
import { realSys } from '../../sys/index.js';
import { liblzo2ForImage } from '../../sys/liblzo2.js';
import { libzstdForImage } from '../../sys/libzstd.js';
import type { Sys } from '../../sys/types.js';
import { formatKdumpConfig, type KdumpConfig } from './config.js';
import { CAPTURE_ENV, KDUMP_INIT, KEXEC_TS_WRAPPER } from './init-script.js';

export { kexecTsPackageDir } from '../../initramfs/index.js';
export type InitrdCompression = Compression;
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
  /** Reads the host files and runs ldd and busybox; default the real one. */
  sys?: Sys;
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

/** Files below `dir`, depth first (modules.* lists need not be current, so the tree is what counts). */
function* filesBelow(sys: Sys, dir: string): Generator<string> {
  for (const name of sys.listDir(dir) ?? []) {
    const p = join(dir, name);
    if (sys.fileStat(p)?.kind === 'dir') yield* filesBelow(sys, p);
    else yield p;
  }
}

/** MODULES entries to files: a path as is, a name searched under /lib/modules/RELEASE/kernel. */
export function resolveModules(names: string[], release: string, sys: Sys = realSys()): string[] {
  const root = `/lib/modules/${release}/kernel`;
  let all: string[] | undefined;
  return names.map((n) => {
    if (n.startsWith('/')) {
      if (!sys.fileStat(n, true)) throw new FileError(n, 'ENOENT', { hint: 'MODULES= in the kdump config' });
      return n;
    }
    all ??= [...filesBelow(sys, root)];
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
  const sys = o.sys ?? realSys();
  const compression = o.compression ?? 'gzip';
  const busybox = o.busybox ?? BUSYBOX_PATHS.find((p) => sys.fileStat(p, true));
  if (!busybox || !sys.fileStat(busybox, true))
    throw new StateError('no busybox found', {
      hint: `apt-get install busybox-static (looked at ${BUSYBOX_PATHS.join(', ')})`,
    });
  const node = sys.realPath(o.node ?? process.execPath);
  const t = new InitramfsTree(sys);
  for (const d of ['/proc', '/sys', '/dev', '/tmp', '/run', '/mnt', '/root', '/etc', '/var/crash']) t.dir(d);
  t.device('chardev', '/dev/console', 5, 1);
  t.device('chardev', '/dev/null', 1, 3, { mode: 0o666 });
  t.addBusybox(busybox);
  t.bytes('/init', KDUMP_INIT, { mode: 0o755 });
  t.bytes('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  const pkg = kexecTsPackageDir(sys);
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
        if (sys.fileStat(p, true)?.dev !== sys.fileStat('/', true)?.dev)
          throw new StateError(`${p} is not on the root file system, which the capture kernel mounts`, {
            hint: 'set ROOT= to the device holding it, or NODE_FROM=initrd',
          });
  } else {
    t.addBinary(node, { as: '/bin/node' });
    const dir = t.addNodePackage(pkg, {
      into: PKG_DIR,
      only: ['package.json', 'dist/src'],
      skip: (r) => r.endsWith('.map'),
    });
    // `vmcore save -l` dlopens liblzo2.so.2 (src/sys/liblzo2.ts): the file this machine loads, under its
    // soname in the loader's directory it came from. COMPRESSION=lzo cannot write a page without it, so
    // the image is not built: better now, on this machine, than in the capture kernel.
    const lzo = liblzo2ForImage();
    if (lzo) t.file(lzo.image, lzo.host, { mode: 0o755 });
    else if (o.config.compression === 'lzo') {
      throw new StateError('COMPRESSION lzo needs liblzo2 in the capture image, and it does not load here', {
        hint: 'install the LZO library (apt-get install liblzo2-2), or set COMPRESSION zlib, zstd or snappy',
      });
    }
    // On a Node.js without zstd in node:zlib (< 22.15), zstd pages go through the system's libzstd
    // (formats/compress/zstd.ts), dlopened the same way.
    const zstd = libzstdForImage();
    if (zstd) t.file(zstd.image, zstd.host, { mode: 0o755 });
    t.bytes('/bin/kexec-ts', KEXEC_TS_WRAPPER, { mode: 0o755 });
    entry = `${dir}/dist/src/bin/kexec-ts.js`;
  }
  const nodeInImage = o.config.nodeFrom === 'root' ? node : '/bin/node';
  t.bytes(CAPTURE_ENV, captureEnv(nodeInImage, entry));
  const modules = resolveModules(o.config.modules, o.release, sys);
  for (const m of modules) t.file(m, m, { mode: 0o644 });
  const cfg = { ...o.config, modules, root: root ?? o.config.root };
  t.bytes('/etc/kexec-ts/kdump.conf', formatKdumpConfig(cfg, o.kernel));
  const { bytes, unpacked } = await writeCpio(o.output, t.entries, { sys, compression, mode: 0o600 });
  log(`${o.output}: ${t.entries.length} entries, ${unpacked} bytes unpacked, ${bytes} bytes ${compression}`);
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
}
