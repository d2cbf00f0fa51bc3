// The shell completions, generated from the command tables, run by the shells themselves: bash with the
// script sourced and COMP_WORDS/COMP_CWORD set as readline sets them, asserting COMPREPLY; zsh both in a
// real interactive shell with compsys through a pseudo-terminal (test/helpers/zsh-complete.zsh), asserting
// what its completers offer, and with the script sourced and compsys' completers (compadd, _describe, _files, compset)
// replaced by functions that print what they were given (test/helpers/zsh-compsys-stubs.zsh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Command, defineCommand, walkCommands } from '../../../src/cli/command.js';
import { bashCompletion } from '../../../src/cli/completion/bash.js';
import { shQuote } from '../../../src/cli/completion/model.js';
import { zshCompletion } from '../../../src/cli/completion/zsh.js';
import { ROOT } from '../../../src/cli/root.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-completion-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const boot = join(dir, 'boot');
const cwd = join(dir, 'cwd');
mkdirSync(boot);
mkdirSync(cwd);
for (const f of ['vmlinuz-6.1.0-test', 'vmlinuz-6.12.0-test', 'initrd.img-6.1.0-test', 'config-6.1.0-test'])
  writeFileSync(join(boot, f), '');
for (const f of ['vmcore.elf', 'notes.txt']) writeFileSync(join(cwd, f), '');
mkdirSync(join(cwd, 'crash'));
const bootKernels = [`${boot}/vmlinuz-6.1.0-test`, `${boot}/vmlinuz-6.12.0-test`];

// A stand-in for kexec-ts that implements the `entries --ids` contract of docs/cli.md, and one that fails.
const entriesBin = join(dir, 'kexec-ts-entries');
writeFileSync(
  entriesBin,
  '#!/bin/sh\n[ "$1 $2" = "entries --ids" ] && printf "debian-6.1\\ndebian-6.12\\nrescue\\n"\n',
);
const failingBin = join(dir, 'kexec-ts-old');
writeFileSync(failingBin, '#!/bin/sh\necho "kexec-ts: unknown command \'entries\'" >&2\nexit 1\n');
chmodSync(entriesBin, 0o755);
chmodSync(failingBin, 0o755);

/** A table with an operand completed by boot entry id, as the coming `entries`/`boot` commands will have. */
const WITH_ENTRY = defineCommand({
  name: 'kexec-ts',
  summary: 'a test tree',
  subcommands: [
    defineCommand({
      name: 'boot',
      summary: 'boot an entry',
      options: [{ id: 'kind', long: ['kind'], choices: ['bls', 'grub'], help: 'kind' }],
      operands: [{ name: 'ID', complete: 'entry' }],
      run: () => 0,
    }),
  ],
});

type Case = { words: string[]; bin?: string };

/** Each case's offers (COMPREPLY), sorted, from one bash run. `words` ends with the word being completed. */
function bash(root: Command, cases: Case[]): string[][] {
  const script = join(dir, `c${Math.random().toString(36).slice(2)}.bash`);
  writeFileSync(script, bashCompletion(root));
  const body = cases
    .map(({ words, bin }) => {
      const w = [bin ?? 'kexec-ts', ...words.slice(1)].map(shQuote).join(' ');
      return `COMP_WORDS=(${w}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _kexec_ts; printf '%s\\n' "\${COMPREPLY[@]}" | LC_ALL=C sort; echo '@@'`;
    })
    .join('\n');
  const r = spawnSync(
    'bash',
    ['--norc', '--noprofile', '-c', `source ${shQuote(script)}; _kexec_ts_boot=${shQuote(boot)}\n${body}`],
    {
      cwd,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout
    .split('@@\n')
    .slice(0, -1)
    .map((block) => block.split('\n').filter(Boolean));
}

/** zsh: what each case would offer, as `compadd WORD`, `_describe WORD` and `_files [-/]` lines. */
function zsh(root: Command, cases: Case[]): string[][] {
  const script = join(dir, `_kexec-ts-${Math.random().toString(36).slice(2)}`);
  writeFileSync(script, zshCompletion(root));
  const stubs = readFileSync(
    fileURLToPath(new URL('../../../../test/helpers/zsh-compsys-stubs.zsh', import.meta.url)),
    'utf8',
  );
  const body = cases
    .map(({ words, bin }) => {
      const w = [bin ?? 'kexec-ts', ...words.slice(1)].map(shQuote).join(' ');
      return `words=(${w}); CURRENT=${words.length}; _kexec-ts | LC_ALL=C sort; print @@`;
    })
    .join('\n');
  const r = spawnSync(
    'zsh',
    ['-f', '-c', `source ${shQuote(script)}; _kexec_ts_boot=${shQuote(boot)}\n${stubs}\n${body}`],
    {
      cwd,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout
    .split('@@\n')
    .slice(0, -1)
    .map((block) => block.split('\n').filter(Boolean));
}

const subcommands = ROOT.subcommands.map((s) => s.name);
const sorted = (xs: string[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('bash completion', () => {
  it('subcommands at each level, options, option values, kernels under /boot, files, -- and =', () => {
    const got = bash(ROOT, [
      { words: ['kexec-ts', ''] },
      { words: ['kexec-ts', 'vm'] },
      { words: ['kexec-ts', 'vmcore', 's'] },
      { words: ['kexec-ts', 'vmcore', 'save', '--n'] },
      { words: ['kexec-ts', 'kdump', 'build-initrd', '--compress', ''] },
      { words: ['kexec-ts', 'kdump', 'build-initrd', '--compress', '=', 'z'] },
      { words: ['kexec-ts', 'kdump', 'build-initrd', '--compress', '='] },
      { words: ['kexec-ts', '-l', '--initrd', ''] },
      { words: ['kexec-ts', '-sl', ''] },
      { words: ['kexec-ts', 'vmcore', 'save', '-d', '31', 'vm'] },
      { words: ['kexec-ts', 'kdump', 'save', '--dir', ''] },
      { words: ['kexec-ts', '--', 'vm'] },
      { words: ['kexec-ts', 'inspect', '--', '--j'] },
      { words: ['kexec-ts', 'doctor', ''] },
    ]);
    const files = ['crash', 'notes.txt', 'vmcore.elf'];
    assert.deepEqual(got, [
      sorted([...subcommands, ...bootKernels, ...files]),
      ['vmcore', 'vmcore.elf'],
      ['save'],
      ['--no-dmesg', '--non-mmap'],
      ['gzip', 'none', 'zstd'],
      ['zstd'],
      ['gzip', 'none', 'zstd'],
      sorted([`${boot}/initrd.img-6.1.0-test`, ...files]),
      sorted([...bootKernels, ...files]),
      ['vmcore.elf'],
      ['crash'],
      ['vmcore.elf'],
      [],
      [],
    ]);
  });

  it('every command offers exactly the options of its table', () => {
    const nodes = [...walkCommands(ROOT)];
    const got = bash(
      ROOT,
      nodes.map(([, path]) => ({ words: ['kexec-ts', ...path, '-'] })),
    );
    nodes.forEach(([cmd, path], i) => {
      const want = cmd.options.flatMap((o) => [
        ...(o.short ? [`-${o.short}`] : []),
        ...o.long.map((l) => `--${l}`),
      ]);
      assert.deepEqual(got[i], sorted(want), path.join(' ') || 'kexec-ts');
    });
  });

  it('entry ids come from `kexec-ts entries --ids`; a kexec-ts without that command offers nothing', () => {
    assert.deepEqual(
      bash(WITH_ENTRY, [
        { words: ['kexec-ts', 'boot', ''], bin: entriesBin },
        { words: ['kexec-ts', 'boot', 'deb'], bin: entriesBin },
        { words: ['kexec-ts', 'boot', ''], bin: failingBin },
        { words: ['kexec-ts', 'boot', '--kind', ''], bin: entriesBin },
      ]),
      [['debian-6.1', 'debian-6.12', 'rescue'], ['debian-6.1', 'debian-6.12'], [], ['bls', 'grub']],
    );
  });
});

/**
 * What a real interactive zsh with compsys offers for each line, through a pseudo-terminal
 * (test/helpers/zsh-complete.zsh): the words its completers matched and added.
 */
function zshOffers(lines: string[]): string[][] {
  const fdir = join(dir, 'fpath');
  mkdirSync(fdir, { recursive: true });
  writeFileSync(join(fdir, '_kexec-ts'), zshCompletion(ROOT));
  const helper = fileURLToPath(new URL('../../../../test/helpers/zsh-complete.zsh', import.meta.url));
  const r = spawnSync('zsh', ['-f', helper, fdir, boot, ...lines], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('@@\n')
    .slice(0, -1)
    .map((block) => sorted(block.split('\n').filter(Boolean)));
}

describe('zsh completion', () => {
  it('in a real zsh with compsys (compinit, through zpty): commands, options, choices, --opt=, initrds', () => {
    assert.deepEqual(
      zshOffers([
        'kexec-ts vmcore ',
        'kexec-ts vmcore save --n',
        'kexec-ts kdump build-initrd --compress ',
        'kexec-ts kdump build-initrd --compress=',
        'kexec-ts -l --initrd ',
      ]),
      [
        ['dmesg', 'info', 'save'],
        ['--no-dmesg', '--non-mmap'],
        ['gzip', 'none', 'zstd'],
        ['gzip', 'none', 'zstd'],
        sorted([`${boot}/initrd.img-6.1.0-test`, 'crash', 'notes.txt', 'vmcore.elf']),
      ],
    );
  });

  it('subcommands with _describe, options, values, kernels under /boot then _files, --opt=value', () => {
    const got = zsh(ROOT, [
      { words: ['kexec-ts', ''] },
      { words: ['kexec-ts', 'vmcore', ''] },
      { words: ['kexec-ts', 'vmcore', 'save', '--n'] },
      { words: ['kexec-ts', 'kdump', 'build-initrd', '--compress', ''] },
      { words: ['kexec-ts', 'kdump', 'build-initrd', '--compress=z'] },
      { words: ['kexec-ts', '-l', '--initrd', ''] },
      { words: ['kexec-ts', 'kdump', 'save', '--dir', ''] },
      { words: ['kexec-ts', 'vmcore', 'save', '-d', '31', ''] },
      { words: ['kexec-ts', '--', ''] },
    ]);
    const described = (xs: string[]) => xs.map((x) => `_describe ${x}`);
    assert.deepEqual(got, [
      sorted([...described(subcommands), ...bootKernels.map((k) => `compadd ${k}`), '_files ']),
      sorted(described(['info', 'dmesg', 'save'])),
      sorted(
        described(
          ROOT.subcommands
            .find((c) => c.name === 'vmcore')!
            .subcommands.find((c) => c.name === 'save')!
            .options.flatMap((o) => [...(o.short ? [`-${o.short}`] : []), ...o.long.map((l) => `--${l}`)]),
        ),
      ),
      ['compadd gzip', 'compadd none', 'compadd zstd'],
      ['compadd gzip', 'compadd none', 'compadd zstd'],
      sorted([`compadd ${boot}/initrd.img-6.1.0-test`, '_files ']),
      ['_files -/'],
      ['_files '],
      sorted([...bootKernels.map((k) => `compadd ${k}`), '_files ']),
    ]);
  });

  it('entry ids come from `kexec-ts entries --ids`; a failure offers nothing', () => {
    assert.deepEqual(
      zsh(WITH_ENTRY, [
        { words: ['kexec-ts', 'boot', ''], bin: entriesBin },
        { words: ['kexec-ts', 'boot', ''], bin: failingBin },
      ]),
      [['compadd debian-6.1', 'compadd debian-6.12', 'compadd rescue'], []],
    );
  });
});
