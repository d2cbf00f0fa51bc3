// Minimal Debian trees for the package test (deb.test.ts), made by mmdebstrap and kept as tarballs in
// the lab cache, named by a hash of everything that shapes them (suite, variant, mirror, extra packages,
// mmdebstrap's version): a change of any of these makes a new tree, the same inputs reuse the file.
// The archive moves on under a fixed name, so a tree older than MAX_AGE_DAYS is made again.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { labDir } from '../../src/lab/paths.js';

export const MIRROR = 'http://deb.debian.org/debian';
/** minbase: dpkg, apt and the Essential set, what a container or a debootstrap'ed system starts with. */
const VARIANT = 'minbase';
const MAX_AGE_DAYS = 14;

/** The tarball of a minimal `suite` tree (made on first use, a few minutes; later a cached file). */
export function debianTree(suite: string): string {
  const version = execFileSync('mmdebstrap', ['--version'], { encoding: 'utf8' }).trim();
  const inputs = { suite, variant: VARIANT, mirror: MIRROR, include: [] as string[], mmdebstrap: version };
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const dir = join(labDir(), 'deb-trees');
  const file = join(dir, `${suite}-${VARIANT}-${key}.tar`);
  if (existsSync(file) && Date.now() - statSync(file).mtimeMs < MAX_AGE_DAYS * 86_400_000) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    execFileSync(
      'mmdebstrap',
      [`--variant=${VARIANT}`, '--mode=root', '--format=tar', '--quiet', suite, tmp, MIRROR],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  // Older trees of the same suite (other inputs) are garbage now.
  for (const n of readdirSync(dir))
    if (n.startsWith(`${suite}-`) && n !== `${suite}-${VARIANT}-${key}.tar`)
      rmSync(join(dir, n), { force: true });
  return file;
}
