// npm packages for an image: a package's runtime dependencies found as Node's resolver finds them, and
// which prebuilt native files belong to other platforms. Host files are read through Sys.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateError } from '../errors.js';
import { realSys } from '../sys/index.js';
import type { Arch, Sys } from '../sys/types.js';

function packageJson(sys: Sys, dir: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(sys.readFile(join(dir, 'package.json'))));
}

/** kexec-ts's own package directory (holding its package.json), found upward from this module. */
export function kexecTsPackageDir(sys: Sys = realSys()): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (sys.fileStat(join(dir, 'package.json'), true) && packageJson(sys, dir)['name'] === 'kexec-ts')
      return dir;
    if (dirname(dir) === dir)
      throw new StateError('cannot find the kexec-ts package directory', {
        hint: 'run an installed kexec-ts',
      });
  }
}

/**
 * Node's lookup of NAME required from `from`: node_modules/NAME in that directory and every parent.
 * Returns the directory it was found under and the package's real path.
 */
function resolvePackage(sys: Sys, name: string, from: string): { under: string; dir: string } | undefined {
  for (let under = from; ; under = dirname(under)) {
    const p = join(under, 'node_modules', name);
    if (sys.fileStat(join(p, 'package.json'), true)) return { under, dir: sys.realPath(p) };
    if (dirname(under) === under) return undefined;
  }
}

/**
 * Runtime dependencies of the package in `pkgDir`, transitively: package.json "dependencies" and the
 * installed "optionalDependencies" (native prebuilds: koffi's @koromix/koffi-linux-x64). Keyed by where
 * each goes below the image's node_modules: its name where npm hoisted it, `a/node_modules/b` where npm
 * nested b inside a (another version of b is hoisted), so that Node resolves the same files there.
 */
export function runtimeDependencies(pkgDir: string, sys: Sys = realSys()): Map<string, string> {
  const root = sys.realPath(pkgDir);
  const found = new Map<string, string>();
  /** Host package directory -> its key (the root package: ''). */
  const placed = new Map<string, string>([[root, '']]);
  const queue = [root];
  while (queue.length) {
    const dir = queue.shift()!;
    const pj = packageJson(sys, dir);
    const optional = new Set(Object.keys((pj['optionalDependencies'] as object | undefined) ?? {}));
    const names = [...Object.keys((pj['dependencies'] as object | undefined) ?? {}), ...optional];
    for (const name of names) {
      const at = resolvePackage(sys, name, dir);
      if (!at && optional.has(name)) continue; // not installed for this platform
      if (!at) throw new StateError(`dependency ${name} of ${dir} not found`, { hint: 'npm install' });
      if (placed.has(at.dir)) continue;
      const parent = placed.get(at.under);
      const key = parent ? `${parent}/node_modules/${name}` : name;
      if (found.has(key))
        throw new StateError(`two packages would be ${key} in the image: ${found.get(key)}, ${at.dir}`);
      found.set(key, at.dir);
      placed.set(at.dir, key);
      queue.push(at.dir);
    }
  }
  return found;
}

/** Node's name of a platform (process.platform_process.arch), as koffi names its prebuild directories. */
export function nodePlatform(arch: Arch): string {
  return `linux_${{ x86_64: 'x64', aarch64: 'arm64', riscv64: 'riscv64' }[arch]}`;
}

/**
 * Prebuilt native code for another platform (koffi ships build/koffi/<platform> for all of them) or for
 * musl (its files do not load on glibc, and ldd cannot resolve them). `rel` is a path in a package.
 */
export function foreignPrebuild(rel: string, platform: string): boolean {
  const m = /(?:^|\/)build\/koffi\/([^/]+)$/.exec(rel);
  return (m !== null && m[1] !== platform) || /(^|\/)[^/]*musl[^/]*$/.test(rel);
}
