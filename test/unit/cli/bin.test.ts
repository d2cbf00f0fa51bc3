import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'dist/src/bin/kexec-ts.js');
const emitted = readFileSync(BIN, 'utf8');
/** The emitted code without comments (line comments here hold no string with // in it). */
const code = emitted
  .split('\n')
  .filter((l) => !/^\s*(\/\/|\/\*\*|\*)/.test(l))
  .join('\n');

const tmp = mkdtempSync(join(tmpdir(), 'kexec-ts-bin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the bin with process.versions.node reading `version` (a preloaded CommonJS file sets it). */
function runAs(version: string, ...args: string[]) {
  const preload = join(tmp, `as-${version}.cjs`);
  writeFileSync(
    preload,
    `Object.defineProperty(process.versions, 'node', { value: ${JSON.stringify(version)} });\n`,
  );
  return spawnSync(process.execPath, ['-r', preload, BIN, ...args], { encoding: 'utf8' });
}

describe('the bin (dist/src/bin/kexec-ts.js)', () => {
  it('claims the range package.json "engines" does', () => {
    const min = /const MINIMUM_NODE = '(\d+\.\d+\.\d+)'/.exec(emitted)?.[1];
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.engines.node, `>=${min}`);
  });

  it('is plain enough for Node.js 10 and 12 to run: no import/export statement, import.meta, ?. or ??', () => {
    assert.doesNotMatch(code, /^\s*(import|export)\s+[\w{*'"]/m);
    assert.doesNotMatch(code, /import\.meta|\?\.|\?\?|^\s*await\b/m);
    // The CLI is reached by import() only.
    assert.match(code, /import\('\.\.\/cli\/main\.js'\)/);
  });

  it('on a Node.js older than 18.19 prints one plain message and exits 1, whatever the command', () => {
    for (const [version, args] of [
      ['18.18.2', ['--version']],
      ['16.20.2', ['vmcore', 'dmesg', '/proc/vmcore']],
      ['12.22.9', []],
    ] as const) {
      const r = runAs(version, ...args);
      assert.equal(r.status, 1, version);
      assert.equal(r.stdout, '', version);
      assert.equal(
        r.stderr.split('\n')[0],
        `kexec-ts: this is Node.js ${version}; kexec-ts needs Node.js 18.19.0 or later`,
      );
      assert.match(r.stderr, /^ {2}hint: install a newer nodejs/m);
    }
  });

  it('on 18.19.0 and later runs the command', () => {
    for (const version of ['18.19.0', '20.19.2', process.versions.node]) {
      const r = runAs(version, '--version');
      assert.equal(r.status, 0, `${version}: ${r.stderr}`);
      assert.match(r.stdout, /^kexec-ts \d+\.\d+\.\d+ /);
    }
  });
});
