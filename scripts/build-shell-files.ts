// After tsc: the man pages and shell completions, generated from the command tables (src/cli/man.ts,
// src/cli/completion/), into dist/man/ and dist/completion/. package.json's `man` field lists the pages
// (npm installs them; scripts/build-deb.ts ships them), and a unit test checks that it lists exactly
// these. The pages are dated by packaging/deb/changelog's newest entry, so a build is reproducible.
//
//   node dist/scripts/build-shell-files.js [OUT_DIR]     default: dist/
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bashCompletion } from '../src/cli/completion/bash.js';
import { zshCompletion } from '../src/cli/completion/zsh.js';
import { manPages } from '../src/cli/man.js';
import { ROOT as KEXEC_TS } from '../src/cli/root.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The newest changelog entry's date as YYYY-MM-DD (its ` -- NAME <MAIL>  DATE` line). */
export function releaseDate(changelog = readFileSync(join(ROOT, 'packaging/deb/changelog'), 'utf8')): string {
  const date = /^ -- .+? {2}(.+)$/m.exec(changelog)?.[1];
  const ms = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(ms)) throw new Error('packaging/deb/changelog: no trailer line with a date');
  return new Date(ms).toISOString().slice(0, 10);
}

/** Where each generated file goes, relative to the output directory. */
export function shellFiles(date = releaseDate()): { path: string; text: string }[] {
  return [
    ...manPages(KEXEC_TS, date).map((p) => ({ path: `man/${p.file}`, text: p.text })),
    { path: 'completion/kexec-ts.bash', text: bashCompletion(KEXEC_TS) },
    { path: 'completion/_kexec-ts', text: zshCompletion(KEXEC_TS) },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(ROOT, 'dist');
  for (const d of ['man', 'completion']) rmSync(join(out, d), { recursive: true, force: true });
  for (const f of shellFiles()) {
    mkdirSync(join(out, f.path, '..'), { recursive: true });
    writeFileSync(join(out, f.path), f.text);
  }
}
