// The npm package as a user installs it (issue 13): `npm pack`, then `npm install -g` of the tarball into
// a prefix of its own. The install prints no warning (no install script: koffi comes as its platform
// package, src/sys/koffi.ts), the bin runs on every supported Node.js and refuses the old ones plainly,
// and the library's types check in a strict consumer that does not skip library checks.
// Needs npm and the registry (the tarball's dependencies). Run: npm run test:package.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureNodeVersions, OLD_NODES, SUITE_NODES } from '../../scripts/node-runtimes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KERNEL = join(ROOT, 'test/fixtures/real/vmlinuz-6.12.107+deb12-cloud-amd64');
const work = mkdtempSync(join(tmpdir(), 'kexec-ts-npm-test-'));
const prefix = join(work, 'global');
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the installed `kexec-ts` command with `node` first on PATH (its shebang is `/usr/bin/env node`). */
function kexecTs(node: string, ...args: string[]) {
  return spawnSync(join(prefix, 'bin/kexec-ts'), args, {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` },
  });
}

describe('npm package', () => {
  let install: { stdout: string; stderr: string };
  before(() => {
    ensureNodeVersions();
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const tgz = join(work, out.trim().split('\n').at(-1)!);
    const r = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tgz], {
      cwd: work,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    install = r;
  });

  it('npm install -g prints no warning and runs no install script', () => {
    assert.doesNotMatch(install.stderr, /warn|install-scripts|allowScripts/i, install.stderr);
    const modules = readdirSync(join(prefix, 'lib/node_modules/kexec-ts/node_modules'));
    assert.ok(!modules.includes('koffi'), 'koffi (with its install script) is a dev dependency only');
    assert.ok(
      readdirSync(join(prefix, 'lib/node_modules/kexec-ts/node_modules/@koromix')).includes(
        `koffi-linux-${process.arch}`,
      ),
    );
  });

  it("links the man pages of package.json's man field into PREFIX/share/man; ships the completions", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
    for (const page of pkg.man) {
      const [, name, section] = /([^/]+\.(\d))$/.exec(page)!;
      const linked = join(prefix, `share/man/man${section}`, name!);
      assert.equal(readFileSync(linked, 'utf8'), readFileSync(join(ROOT, page), 'utf8'), linked);
    }
    for (const f of ['kexec-ts.bash', '_kexec-ts'])
      assert.ok(existsSync(join(prefix, 'lib/node_modules/kexec-ts/dist/completion', f)), f);
  });

  for (const [major, node] of Object.entries(SUITE_NODES)) {
    it(`the bin on Node.js ${major}: --version, inspect --json of a Debian kernel (zstd payload)`, () => {
      const v = kexecTs(node, '--version');
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stdout, /^kexec-ts \d+\.\d+\.\d+ /);
      const i = kexecTs(node, 'inspect', '--json', KERNEL);
      assert.equal(i.status, 0, i.stderr);
      assert.match(i.stdout, /6\.12\.107\+deb12-cloud-amd64/);
      assert.equal(i.stderr, '');
    });
  }

  for (const [major, node] of Object.entries(OLD_NODES)) {
    it(`the bin on Node.js ${major}: one plain message, exit 1`, () => {
      const r = kexecTs(node, '--help');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^kexec-ts: this is Node\.js \S+; kexec-ts needs Node\.js 18\.19\.0 or later\n/);
    });
  }

  it("the library's types check in a strict consumer (skipLibCheck off)", () => {
    const dir = join(work, 'consumer');
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    execFileSync('ln', ['-s', join(prefix, 'lib/node_modules/kexec-ts'), join(dir, 'node_modules/kexec-ts')]);
    writeFileSync(join(dir, 'package.json'), '{"name":"consumer","private":true,"type":"module"}\n');
    writeFileSync(
      join(dir, 'index.ts'),
      `import { FakeSys, FormatError, inspectImage, type KexecError } from 'kexec-ts';
const sys: FakeSys = new FakeSys();
const e: KexecError = new FormatError('x', 'bzImage');
const code: string = e.code;
export const used: unknown[] = [sys, code, inspectImage];
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
      }),
    );
    const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
