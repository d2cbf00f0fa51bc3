// `kexec-ts lab setup`: host tools from apt, plus Debian packages that are downloaded and unpacked into
// the cache only. Guest kernels are never installed on the host: dpkg-deb -x into a private tree.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { run } from './exec.js';
import { labDir, labPaths } from './paths.js';

/** liblzo2-2: Debian's makedumpfile (unpacked from the lab cache) links it; the kdump lab test runs it. */
export const HOST_PACKAGES = [
  'qemu-system-x86',
  'busybox-static',
  'cpio',
  'ovmf',
  'zstd',
  'liblzo2-2',
] as const;
export const DEFAULT_KERNEL_PACKAGE = 'linux-image-cloud-amd64';
/** Used when the default cloud kernel lacks an essential option. */
export const FALLBACK_KERNEL_PACKAGE = 'linux-image-amd64';

/** Options the lab cannot work without, and options it reports on. */
export const ESSENTIAL_CONFIG = [
  'CONFIG_KEXEC',
  'CONFIG_KEXEC_FILE',
  'CONFIG_BLK_DEV_INITRD',
  'CONFIG_DEVTMPFS',
  'CONFIG_SERIAL_8250',
  'CONFIG_SERIAL_8250_CONSOLE',
] as const;
export const REPORTED_CONFIG = [
  ...ESSENTIAL_CONFIG,
  'CONFIG_CRASH_DUMP',
  'CONFIG_PROC_VMCORE',
  'CONFIG_RD_GZIP',
  'CONFIG_RD_ZSTD',
  'CONFIG_KEXEC_SIG',
  'CONFIG_KEXEC_BZIMAGE_VERIFY_SIG',
  'CONFIG_VIRTIO_PCI',
  'CONFIG_VIRTIO_BLK',
  'CONFIG_EFI',
  'CONFIG_EFI_STUB',
] as const;

export interface LabSetupOptions {
  /** Debian kernel package (meta or concrete); default linux-image-cloud-amd64. */
  kernelPackage?: string;
  /** Cache root; default labDir(). */
  root?: string;
  log?: (line: string) => void;
  /** Re-resolve packages with apt even when setup.json from an earlier run is still valid. */
  refresh?: boolean;
}

export interface LabSetup {
  root: string;
  /** The package name asked for (meta or concrete). */
  requested: string;
  /** Concrete package, e.g. linux-image-6.1.0-56-cloud-amd64. */
  kernelPackage: string;
  /** `uname -r` of the guest kernel, e.g. 6.1.0-56-cloud-amd64. */
  kernelRelease: string;
  vmlinuz: string;
  kernelConfigPath: string;
  /** Value of each REPORTED_CONFIG option ('y', 'm', or 'n' when unset). */
  kernelConfig: Record<string, string>;
  /** Unpacked kexec-tools deb and its kexec binary. */
  kexecToolsRoot: string;
  kexecBinary: string;
  /** Library directories of unpacked runtime dependencies the host lacks (libxen* for kexec). */
  kexecLibDirs: string[];
  /** Unpacked makedumpfile deb (kept for kdump scenarios). */
  makedumpfileRoot: string;
  /** Host busybox-static binary. */
  busybox: string;
  /** Why a fallback kernel was chosen, when it was. */
  note?: string;
}

export async function labSetup(opts: LabSetupOptions = {}): Promise<LabSetup> {
  const log = opts.log ?? (() => {});
  const paths = labPaths(opts.root ?? labDir());
  await mkdir(paths.debs, { recursive: true });
  await mkdir(paths.extract, { recursive: true });
  await ensureHostPackages(log);

  const requested = opts.kernelPackage ?? DEFAULT_KERNEL_PACKAGE;
  // apt-cache is slow (about 1 s a call); reuse the previous resolution unless asked to refresh.
  const cached = opts.refresh ? undefined : await readCachedSetup(paths.root, requested);
  if (cached) return cached;
  let kernel = await fetchKernel(requested, paths, log);
  let note: string | undefined;
  const missing = ESSENTIAL_CONFIG.filter((k) => kernel.config[k] !== 'y');
  if (missing.length > 0) {
    if (opts.kernelPackage !== undefined) {
      throw new LabError(`${kernel.pkg} lacks ${missing.join(', ')}`, {
        hint: 'pick a Debian kernel built with kexec and a serial console, e.g. linux-image-amd64',
      });
    }
    note = `${kernel.pkg} lacks ${missing.join(', ')}; using ${FALLBACK_KERNEL_PACKAGE}`;
    log(note);
    kernel = await fetchKernel(FALLBACK_KERNEL_PACKAGE, paths, log);
  }

  const kexecToolsRoot = await fetchDeb('kexec-tools', paths, log);
  const kexecBinary = ['sbin/kexec', 'usr/sbin/kexec'].map((p) => join(kexecToolsRoot, p)).find(existsSync);
  if (!kexecBinary)
    throw new LabError(`no sbin/kexec in ${kexecToolsRoot}`, { hint: 'remove the lab cache' });
  const kexecLibDirs = await fetchMissingLibs('kexec-tools', paths, log);
  const makedumpfileRoot = await fetchDeb('makedumpfile', paths, log);

  const setup: LabSetup = {
    root: paths.root,
    requested,
    kernelPackage: kernel.pkg,
    kernelRelease: kernel.release,
    vmlinuz: kernel.vmlinuz,
    kernelConfigPath: kernel.configPath,
    kernelConfig: Object.fromEntries(REPORTED_CONFIG.map((k) => [k, kernel.config[k] ?? 'n'])),
    kexecToolsRoot,
    kexecBinary,
    kexecLibDirs,
    makedumpfileRoot,
    busybox: '/bin/busybox',
    ...(note === undefined ? {} : { note }),
  };
  if (!existsSync(setup.busybox))
    throw new LabError('/bin/busybox missing', { hint: 'apt-get install busybox-static' });
  await writeFile(setupFile(paths.root, requested), `${JSON.stringify(setup, null, 2)}\n`);
  return setup;
}

/** setup.json for the default kernel; setup-<package>.json for another, so labs for two kernels coexist. */
function setupFile(root: string, requested: string): string {
  return join(root, requested === DEFAULT_KERNEL_PACKAGE ? 'setup.json' : `setup-${requested}.json`);
}

async function readCachedSetup(root: string, requested: string): Promise<LabSetup | undefined> {
  const file = setupFile(root, requested);
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as LabSetup;
    const files = [s.vmlinuz, s.kernelConfigPath, s.kexecBinary, s.makedumpfileRoot, ...s.kexecLibDirs];
    if (s.requested === requested && s.root === root && files.every((f) => existsSync(f))) return s;
  } catch {
    // A corrupt setup.json is simply redone.
  }
  return undefined;
}

/** Set on top of our environment for apt-get (ExecOptions.env). */
export const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

let aptUpdated = false;
/** Runs an apt query or download; on failure (often an empty or stale index) updates once and retries. */
export async function withAptUpdate<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (aptUpdated || process.getuid?.() !== 0) throw e;
    aptUpdated = true;
    await run(['apt-get', 'update'], { env: APT_ENV, hint: 'check access to the Debian archive' });
    return fn();
  }
}

async function ensureHostPackages(log: (s: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const pkg of HOST_PACKAGES) {
    if (!(await hostHasPackage(pkg))) missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new LabError(`host packages missing: ${missing.join(' ')}`, {
      hint: `run as root, or: apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    });
  }
  log(`apt-get install ${missing.join(' ')}`);
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
  const first = await run(install, { env: APT_ENV, allowFail: true });
  if (first.status !== 0) {
    // Usually a stale or empty package index.
    aptUpdated = true;
    await run(['apt-get', 'update'], { env: APT_ENV, hint: 'check access to the Debian archive' });
    await run(install, { env: APT_ENV, hint: 'check access to the Debian archive' });
  }
}

async function hostHasPackage(pkg: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a JS template
  const r = await run(['dpkg-query', '-W', '-f=${Status}', pkg], { allowFail: true });
  return r.stdout.includes('install ok installed');
}

interface Kernel {
  pkg: string;
  release: string;
  vmlinuz: string;
  configPath: string;
  config: Record<string, string>;
}

async function fetchKernel(requested: string, paths: ReturnType<typeof labPaths>, log: (s: string) => void) {
  const pkg = await resolveKernelPackage(requested);
  const root = await fetchDeb(pkg, paths, log);
  const boot = join(root, 'boot');
  const files = existsSync(boot) ? await readdir(boot) : [];
  const image = files.find((f) => f.startsWith('vmlinuz-'));
  const config = files.find((f) => f.startsWith('config-'));
  if (!image || !config)
    throw new LabError(`${pkg}: no boot/vmlinuz-* or boot/config-*`, { hint: 'not a kernel package?' });
  const configPath = join(boot, config);
  const kernel: Kernel = {
    pkg,
    release: image.slice('vmlinuz-'.length),
    vmlinuz: join(boot, image),
    configPath,
    config: parseKernelConfig(await readFile(configPath, 'utf8')),
  };
  return kernel;
}

/**
 * A meta package (linux-image-cloud-amd64, linux-image-6.12-cloud-amd64) names its concrete kernel in
 * Depends; a concrete one carries a full version (linux-image-6.1.0-56-cloud-amd64, linux-image-6.12.117+deb12-amd64).
 */
export async function resolveKernelPackage(name: string): Promise<string> {
  if (/^linux-image-\d+\.\d+\.\d+/.test(name)) return name;
  const r = await withAptUpdate(() =>
    run(['apt-cache', 'depends', name], { hint: 'run apt-get update; is the package name right?' }),
  );
  const dep = /Depends:\s*(linux-image-\d\S*)/.exec(r.stdout)?.[1];
  if (!dep) return name; // e.g. a custom package that already holds boot/vmlinuz-*
  return dep;
}

export function parseKernelConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/**
 * Debian's kexec links libxenctrl, which a plain host lacks. Walk the lib* Depends of `pkg` and unpack every
 * one that is not installed on the host; return their library directories for ldd and the guest.
 */
export async function fetchMissingLibs(
  pkg: string,
  paths: ReturnType<typeof labPaths>,
  log: (s: string) => void,
) {
  const seen = new Set<string>([pkg]);
  const queue = [pkg];
  const dirs: string[] = [];
  while (queue.length > 0) {
    const cur = queue.shift()!;
    const r = await withAptUpdate(() =>
      run([
        'apt-cache',
        'depends',
        '--no-recommends',
        '--no-suggests',
        '--no-conflicts',
        '--no-breaks',
        '--no-replaces',
        '--no-enhances',
        cur,
      ]),
    );
    for (const m of r.stdout.matchAll(/^\s*\|?Depends:\s*(lib[^\s<>]+)/gm)) {
      const dep = m[1]!;
      if (seen.has(dep)) continue;
      seen.add(dep);
      if (await hostHasPackage(dep)) continue;
      const root = await fetchDeb(dep, paths, log);
      for (const d of ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu']) {
        if (existsSync(join(root, d))) dirs.push(join(root, d));
      }
      queue.push(dep);
    }
  }
  return dirs;
}

/** apt-get download + dpkg-deb -x, both skipped when the cache already holds the result. */
export async function fetchDeb(
  pkg: string,
  paths: ReturnType<typeof labPaths>,
  log: (s: string) => void,
): Promise<string> {
  let deb = await findDeb(paths.debs, pkg);
  if (!deb) {
    log(`apt-get download ${pkg}`);
    await withAptUpdate(() =>
      run(['apt-get', 'download', pkg], {
        cwd: paths.debs,
        env: APT_ENV,
        hint: 'run apt-get update; the Debian archive must be reachable',
      }),
    );
    deb = await findDeb(paths.debs, pkg);
    if (!deb) throw new LabError(`apt-get download ${pkg} left no ${pkg}_*.deb`);
  }
  const dest = join(paths.extract, deb.replace(/\.deb$/, ''));
  if (existsSync(join(dest, '.lab-extracted'))) return dest;
  log(`dpkg-deb -x ${deb}`);
  const tmp = `${dest}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await run(['dpkg-deb', '-x', join(paths.debs, deb), tmp]);
  await writeFile(join(tmp, '.lab-extracted'), `${pkg}\n`);
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
  return dest;
}

async function findDeb(dir: string, pkg: string): Promise<string | undefined> {
  const names = (await readdir(dir)).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  return names.sort().at(-1);
}
