// The unit suite on every Node.js kexec-ts claims (docs/packaging.md): the pinned 24 of the project's
// devDependencies, and the oldest supported 18.19 and Debian 13's 20.19 from scripts/node-versions (their
// own package: each `node` package links a bin named node). Node 18's `node --test` takes no globs, so
// the files are listed here. A run fails when any test fails, is cancelled, skipped or todo, or when
// none ran: a skipped test that CI does not report is a defect. The startup check of src/bin is also run
// on Node 10 and 12 (Ubuntu 20.04 and 22.04), which must print its message, not a SyntaxError.
//
//   node dist/scripts/test-unit.js                 every runtime
//   KEXEC_TS_TEST_NODES=24,18 node dist/...        some of them (majors)
//   node dist/scripts/test-unit.js FILE...         only these test files (built .js paths)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeVersions, OLD_NODES, SUITE_NODES } from './node-runtimes.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Summary {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

/** The closing `# tests N` ... lines of a TAP report. */
function summary(tap: string): Summary | undefined {
  const count = (k: string) => {
    const m = new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap);
    return m ? Number(m[1]) : undefined;
  };
  const tests = count('tests');
  if (tests === undefined) return undefined;
  return {
    tests,
    pass: count('pass') ?? 0,
    fail: count('fail') ?? 0,
    cancelled: count('cancelled') ?? 0,
    skipped: count('skipped') ?? 0,
    todo: count('todo') ?? 0,
  };
}

/** The names of skipped or todo tests, from TAP lines such as `ok 3 - name # SKIP why`. */
function notRun(tap: string): string[] {
  return tap
    .split('\n')
    .filter((l) => /^\s*ok \d+ - .*# (SKIP|TODO)\b/i.test(l))
    .map((l) => l.trim());
}

function runSuite(major: string, node: string, files: string[], tmp: string): { ok: boolean; s?: Summary } {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n== unit suite on Node.js ${version} (${files.length} files) ==`);
  const tapFile = join(tmp, `node${major}.tap`);
  const r = spawnSync(
    node,
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...files.map((f) => relative(ROOT, f)),
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const s = summary(tap);
  const problems: string[] = [];
  if (r.status !== 0) problems.push(`exit ${r.status ?? r.signal}`);
  if (!s) problems.push('no TAP summary');
  else {
    if (s.tests === 0) problems.push('no test ran');
    if (s.fail) problems.push(`${s.fail} failed`);
    if (s.cancelled) problems.push(`${s.cancelled} cancelled`);
    if (s.skipped || s.todo) problems.push(`${s.skipped} skipped, ${s.todo} todo: ${notRun(tap).join('; ')}`);
  }
  console.log(
    `== Node.js ${version}: ${s ? `${s.pass} passed, ${s.fail} failed, ${s.skipped} skipped` : 'no result'}` +
      `${problems.length ? ` -- FAILED (${problems.join(', ')})` : ''}`,
  );
  return { ok: problems.length === 0, ...(s ? { s } : {}) };
}

/** On a Node.js older than supported, the bin prints its message and exits 1, whatever the arguments. */
function checkOldNode(major: string, node: string): boolean {
  const bin = join(ROOT, 'dist/src/bin/kexec-ts.js');
  const r = spawnSync(node, [bin, '--version'], { encoding: 'utf8' });
  const ok =
    r.status === 1 &&
    r.stdout === '' &&
    /^kexec-ts: this is Node\.js .*; kexec-ts needs Node\.js /.test(r.stderr);
  console.log(`== startup check on Node.js ${major}: ${ok ? 'plain message, exit 1' : 'FAILED'}`);
  if (!ok) console.log(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return ok;
}

function main(): number {
  const want = (process.env.KEXEC_TS_TEST_NODES ?? Object.keys(SUITE_NODES).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of want) if (!SUITE_NODES[m]) throw new Error(`KEXEC_TS_TEST_NODES: no Node.js ${m} here`);
  const args = process.argv.slice(2);
  const files = args.length ? args.map((f) => resolve(f)) : testFiles(join(ROOT, 'dist/test/unit'));
  if (want.some((m) => m !== '24') || args.length === 0) ensureNodeVersions();
  const tmp = mkdtempSync(join(tmpdir(), 'kexec-ts-unit-'));
  const totals: Summary = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  let ok = true;
  try {
    for (const m of want) {
      const r = runSuite(m, SUITE_NODES[m]!, files, tmp);
      ok &&= r.ok;
      if (r.s) for (const k of Object.keys(totals) as (keyof Summary)[]) totals[k] += r.s[k];
    }
    if (args.length === 0)
      for (const [m, node] of Object.entries(OLD_NODES)) ok = checkOldNode(m, node) && ok;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // The plain closing line CI reads, over every runtime.
  console.log(`\nunit suite on Node.js ${want.join(', ')}, all together:`);
  console.log(`unit: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
  return ok ? 0 : 1;
}

process.exitCode = main();
