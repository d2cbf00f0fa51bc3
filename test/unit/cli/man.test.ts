// The man pages, generated from the command tables: groff reads each without a warning, each lists every
// option of every command it describes, package.json's `man` field lists exactly these pages, and the
// build wrote them as the tables give them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { releaseDate, shellFiles } from '../../../scripts/build-shell-files.js';
import { type Command, walkCommands } from '../../../src/cli/command.js';
import { spelling } from '../../../src/cli/help.js';
import { manPages, roffLiteral, roffText } from '../../../src/cli/man.js';
import { ROOT } from '../../../src/cli/root.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const DATE = releaseDate();
const pages = manPages(ROOT, DATE);

/** groff's warnings (all of them: -ww) and the page as plain text, one very long line per paragraph. */
function groff(text: string): { warnings: string; plain: string; status: number | null } {
  const r = spawnSync('groff', ['-ww', '-man', '-Tutf8', '-rLL=400n', '-P-cbou'], {
    input: text,
    encoding: 'utf8',
  });
  return { warnings: r.stderr, plain: r.stdout, status: r.status };
}

/** The command a page describes: kexec-ts itself for kexec-ts(8), else the top-level command. */
function described(page: string): [Command, string[]][] {
  if (page === 'kexec-ts') return [[ROOT, []]];
  const cmd = ROOT.subcommands.find((c) => `kexec-ts-${c.name}` === page);
  assert.ok(cmd, page);
  return [...walkCommands(cmd, [cmd.name])];
}

describe('man pages', () => {
  it('kexec-ts(8) and one page per command, in the sections the tables give', () => {
    assert.deepEqual(
      pages.map((p) => p.file),
      [
        'kexec-ts.8',
        'kexec-ts-inspect.1',
        'kexec-ts-verify.8',
        'kexec-ts-doctor.8',
        'kexec-ts-vmcore.8',
        'kexec-ts-kdump.8',
        'kexec-ts-lab.1',
      ],
    );
  });

  for (const page of pages) {
    it(`${page.file}: no groff warning; NAME, SYNOPSIS, every option and command of its table`, () => {
      const r = groff(page.text);
      assert.equal(r.status, 0);
      assert.equal(r.warnings, '', page.file);
      assert.ok(page.text.startsWith(`.TH ${roffLiteral(page.name.toUpperCase())} ${page.section} ${DATE} `));
      assert.match(r.plain, new RegExp(`^NAME\\n +${page.name} - \\S`, 'm'));
      assert.match(r.plain, /^SYNOPSIS$/m);
      for (const [cmd, path] of described(page.name)) {
        for (const o of cmd.options)
          for (const s of spelling(o).split(', '))
            assert.ok(r.plain.includes(s), `${page.file}: ${[...path, s].join(' ')}`);
        for (const s of cmd.subcommands) assert.ok(r.plain.includes(s.name), `${page.file}: ${s.name}`);
        if (path.length > 1) assert.ok(r.plain.includes(`kexec-ts ${path.join(' ')} `), path.join(' '));
      }
    });
  }

  it('kexec-ts(8) points to every command page; each command page back to kexec-ts(8)', () => {
    const root = groff(pages[0]!.text).plain;
    for (const p of pages.slice(1)) {
      assert.ok(root.includes(`${p.name}(${p.section})`), p.name);
      assert.match(groff(p.text).plain, /^SEE ALSO\n +kexec-ts\(8\)/m, p.name);
    }
  });

  it('roff escapes: a backslash and a leading dot are text, hyphens of literals are minus signs', () => {
    assert.equal(roffText("a\\b\n.c\n'd"), "a\\eb\n\\&.c\n\\&'d");
    assert.equal(roffLiteral('--dump-level'), '\\-\\-dump\\-level');
    const r = groff(`.TH T 1\n.SH NAME\nt \\- x\n.PP\n${roffText('.dot \\ back')}\n`);
    assert.equal(r.warnings, '');
    assert.match(r.plain, /^ +\.dot \\ back$/m);
  });

  it("package.json's man field lists exactly the pages, and the build wrote them as the tables give", () => {
    const pkg = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { man: string[]; files: string[] };
    assert.deepEqual(
      pkg.man,
      pages.map((p) => `dist/man/${p.file}`),
    );
    assert.ok(pkg.files.includes('dist/man') && pkg.files.includes('dist/completion'));
    for (const f of shellFiles(DATE))
      assert.equal(readFileSync(`${REPO}dist/${f.path}`, 'utf8'), f.text, f.path);
  });
});
