// The Node.js releases kexec-ts is tested on (docs/packaging.md "Node.js range"): the project's pinned 24
// (devDependency `node`), and from scripts/node-versions (a package of its own: every `node` package links
// a bin named node, which in the project's node_modules would replace the pinned 24) the oldest supported
// 18.19 (Ubuntu 24.04), Debian 13's 20.19, and two too old to run kexec-ts, on which its bin must say so:
// Ubuntu 20.04's 10.19 and Ubuntu 22.04's 12.22.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const VERSIONS_DIR = join(ROOT, 'scripts/node-versions');

/** Runtimes of the unit suite: major -> node binary. */
export const SUITE_NODES: Record<string, string> = {
  '24': join(ROOT, 'node_modules/node/bin/node'),
  '18': join(VERSIONS_DIR, 'node_modules/node18/bin/node'),
  '20': join(VERSIONS_DIR, 'node_modules/node20/bin/node'),
};

/** Runtimes too old for kexec-ts. */
export const OLD_NODES: Record<string, string> = {
  '10': join(VERSIONS_DIR, 'node_modules/node10/bin/node'),
  '12': join(VERSIONS_DIR, 'node_modules/node12/bin/node'),
};

/** Installs scripts/node-versions (npm ci, pinned by its lock file) unless every binary is there. */
export function ensureNodeVersions(): void {
  const all = [...Object.values(SUITE_NODES), ...Object.values(OLD_NODES)];
  if (all.every((n) => existsSync(n))) return;
  console.log('installing the pinned Node.js releases (scripts/node-versions, npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: VERSIONS_DIR,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`npm ci in ${VERSIONS_DIR} failed (${r.status ?? r.signal})`);
}
