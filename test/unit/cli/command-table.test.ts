// The command tables: parsing into typed values, operand arity, choices, groups, and --help rendered
// from the table for every command of the tree, answered without asking for the kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CommandContext, defineCommand, walkCommands } from '../../../src/cli/command.js';
import { spelling } from '../../../src/cli/help.js';
import { main } from '../../../src/cli/main.js';
import { ROOT } from '../../../src/cli/root.js';
import { runCommand } from '../../../src/cli/run-command.js';
import { UsageError } from '../../../src/errors.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';

function ctx(): CommandContext & { io: ReturnType<typeof captureIo> } {
  return {
    io: captureIo(),
    getSys: () => {
      throw new Error('asked for the kernel');
    },
  };
}

const seen: unknown[] = [];
const COPY = defineCommand({
  name: 'copy',
  summary: 'a test command',
  options: [
    { id: 'json', long: ['json'], help: 'as JSON' },
    { id: 'level', long: ['level'], short: 'l', arg: 'N', default: '1', help: 'how hard' },
    { id: 'mode', long: ['mode'], choices: ['fast', 'safe'], help: 'how' },
    { id: 'tag', long: ['tag'], short: 't', arg: 'TAG', repeatable: true, help: 'tags' },
    { id: 'verbose', long: ['verbose'], short: 'v', repeatable: true, help: 'more' },
  ],
  operands: [
    { name: 'SRC', arity: 'optional', default: '/proc/vmcore' },
    { name: 'DEST', arity: 'some', noun: 'destination', example: 'copy SRC DEST' },
  ],
  run: (values) => {
    // The types follow the table: these assignments would not compile otherwise.
    const level: string = values.level;
    const mode: 'fast' | 'safe' | undefined = values.mode;
    const tags: string[] = values.tag;
    const count: number = values.verbose;
    const dest: string[] = values.DEST;
    seen.push({ json: values.json, level, mode, tags, count, src: values.SRC, dest });
    return 0;
  },
});
const GROUP = defineCommand({ name: 'grp', summary: 'a test group', subcommands: [COPY] });

async function copy(...argv: string[]) {
  seen.length = 0;
  await runCommand(GROUP, ['copy', ...argv], ctx(), ['grp']);
  return seen[0];
}

describe('command tables: values', () => {
  it('typed values with defaults, GNU permutation, clusters, prefixes and --opt=value', async () => {
    assert.deepEqual(await copy('out'), {
      json: false,
      level: '1',
      mode: undefined,
      tags: [],
      count: 0,
      src: '/proc/vmcore',
      dest: ['out'],
    });
    assert.deepEqual(await copy('in', '-vvl3', 'a', '--mo=safe', '-t', 'x', '--tag=y', 'b', '--json'), {
      json: true,
      level: '3',
      mode: 'safe',
      tags: ['x', 'y'],
      count: 2,
      src: 'in',
      dest: ['a', 'b'],
    });
  });
  it('-- ends the options: a file may be called --json', async () => {
    assert.deepEqual(((await copy('--', '--json', '-v')) as { src: string; dest: string[] }).dest, ['-v']);
    assert.equal(((await copy('--', '--json', '-v')) as { src: string }).src, '--json');
  });
  it('messages name the command path', async () => {
    const fails: [string[], RegExp][] = [
      [[], /^grp copy: no destination given$/],
      [['--mode=slow', 'x'], /^grp copy: --mode takes fast or safe, not 'slow'$/],
      [['--bogus', 'x'], /^grp copy: unrecognized option '--bogus'$/],
      [['-q', 'x'], /^grp copy: invalid option -- 'q'$/],
      [['--level'], /^grp copy: option '--level' requires an argument$/],
      [['--json=1', 'x'], /^grp copy: option '--json' doesn't allow an argument$/],
    ];
    for (const [argv, re] of fails) {
      await assert.rejects(
        runCommand(GROUP, ['copy', ...argv], ctx(), ['grp']),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
        argv.join(' '),
      );
    }
    await assert.rejects(
      runCommand(COPY, [], ctx(), ['grp', 'copy']),
      (e: UsageError) => e.hint === 'copy SRC DEST',
    );
  });
  it('a group: its help alone fails, `help` and -h succeed, an unknown word is named', async () => {
    for (const [argv, code] of [
      [[], 1],
      [['help'], 0],
      [['-h'], 0],
      [['--help'], 0],
    ] as const) {
      const c = ctx();
      assert.equal(await runCommand(GROUP, argv, c, ['grp']), code, argv.join(' '));
      assert.match(c.io.out, /^Usage: kexec-ts grp COMMAND \[ARGS\.\.\.\]\n/);
      assert.match(c.io.out, /\n {2}copy +a test command\n/);
    }
    await assert.rejects(
      runCommand(GROUP, ['frob'], ctx(), ['grp']),
      (e: UsageError) => e.message === "grp: unknown command 'frob'" && e.hint === 'kexec-ts grp copy',
    );
  });
});

describe('command tables: --help of every command', () => {
  it('comes from the table: usage line, every option spelling, exit 0, stdout only, no kernel', async () => {
    let n = 0;
    for (const [cmd, path] of walkCommands(ROOT)) {
      const c = ctx();
      assert.equal(await runCommand(cmd, ['--help'], c, path), 0);
      assert.match(c.io.out, new RegExp(`^(kexec-ts .*\\n\\n)?Usage: ${['kexec-ts', ...path].join(' ')} `));
      for (const o of cmd.options) {
        // A long list of aliases is broken after its commas; each spelling stays whole.
        for (const s of spelling(o).split(', ')) assert.ok(c.io.out.includes(s), `${path.join(' ')}: ${s}`);
      }
      for (const s of cmd.subcommands) assert.match(c.io.out, new RegExp(`\\n  ${s.name} `), s.name);
      assert.equal(c.io.err, '');
      n++;
    }
    assert.ok(n >= 3, `${n} commands`);
  });
});

describe('--json is an option, not a word anywhere in argv', () => {
  const sys = () => new FakeSys({ files: { '--json': buildBzImage({ kernelVersion: '6.1.0-dash' }) } });
  it('inspect -- --json reads the file called --json and prints text', async () => {
    const io = captureIo();
    assert.equal(await main(['inspect', '--', '--json'], { io, sys: sys() }), 0, io.err);
    assert.match(io.out, /^--json:\n/);
    assert.match(io.out, /6\.1\.0-dash/);
  });
  it('an error after -- --json is reported as text, before -- as JSON', async () => {
    const text = captureIo();
    assert.equal(await main(['inspect', '--', '--json', 'missing'], { io: text, sys: sys() }), 1);
    assert.match(text.err, /^kexec-ts: .*missing/);
    const json = captureIo();
    assert.equal(await main(['inspect', '--json', 'missing'], { io: json, sys: sys() }), 1);
    assert.equal(JSON.parse(json.err).error.code, 'E_FILE');
  });
});

describe('Command.exitFor', () => {
  it('lab keeps its statuses: 2 for bad usage at every level, the usual 1 elsewhere', async () => {
    for (const [argv, code] of [
      [['lab', 'frob'], 2],
      [['lab', 'setup', '--bogus'], 2],
      [['lab', 'demo', 'extra'], 2],
      [['lab'], 1],
      [['vmcore', 'frob'], 1],
    ] as const) {
      const io = captureIo();
      const sys = new FakeSys({});
      assert.equal(await main(argv, { io, sys }), code, argv.join(' '));
      if (argv.length > 1) assert.match(io.err, /^kexec-ts: (lab|vmcore)/, argv.join(' '));
      assert.deepEqual(sys.calls, [], argv.join(' '));
    }
  });
});
