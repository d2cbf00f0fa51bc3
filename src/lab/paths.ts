// Where the lab keeps downloaded packages, extracted trees and built images. Never inside the repo's
// tracked files: the cache holds hundreds of MB of Debian packages.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['KEXEC_TS_LAB_DIR'];
  if (explicit) return explicit;
  const cache = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(cache, 'kexec-ts', 'lab');
}

/** Sub-directories of the lab cache. */
export function labPaths(root: string = labDir()) {
  return {
    root,
    debs: join(root, 'debs'),
    extract: join(root, 'extract'),
    builds: join(root, 'builds'),
  };
}
