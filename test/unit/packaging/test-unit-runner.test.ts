// scripts/test-unit.ts, the runner of the unit suite on every supported Node.js: a skipped or todo test
// fails the run as a failed one does, so CI cannot pass with a test that did not run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('../../../scripts/test-unit.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the runner on the pinned Node only, on one test file holding `body`. */
function run(name: string, body: string) {
  const file = join(dir, `${name}.test.mjs`);
  writeFileSync(file, `import { it } from 'node:test';\nit('runs', () => {});\n${body}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, KEXEC_TS_TEST_NODES: '24' };
  delete env.NODE_TEST_CONTEXT; // else the inner `node --test` reports to this run instead of its own
  return spawnSync(process.execPath, [RUNNER, file], { encoding: 'utf8', env });
}

describe('scripts/test-unit.ts', () => {
  it('passes a file whose tests all pass', () => {
    const r = run('pass', '');
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^unit: 1 passed, 0 failed, 0 skipped$/m);
  });

  for (const [name, body, why] of [
    [
      'skip',
      "it('later', { skip: 'no fixture' }, () => {});",
      /1 skipped, 0 todo: ok 2 - later # SKIP no fixture/,
    ],
    ['todo', "it('later', { todo: true }, () => {});", /0 skipped, 1 todo/],
    ['fail', "it('breaks', () => { throw new Error('x'); });", /1 failed/],
  ] as const) {
    it(`fails a run with a ${name} test, and says which`, () => {
      const r = run(name, body);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stdout, /-- FAILED \(/);
      assert.match(r.stdout, why);
    });
  }
});
