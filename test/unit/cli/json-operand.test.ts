// `--json` is an option of the commands that have it, never a word stripped from anywhere in argv: the
// old vmcore and kdump parsers took it out wherever it stood, so a file called `--json` after `--`, or
// given as an option's value, was lost. Now it is a file, and the output stays text.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildVmcore, SynthMemory, writeLocklessLog } from '../../helpers/build-vmcore.js';

const enc = (s: string) => new TextEncoder().encode(s);

function vmcore(release: string): Uint8Array {
  const mem = new SynthMemory();
  const { keys } = writeLocklessLog(mem, [{ tsNsec: 1_000n, text: enc(`Linux version ${release}`) }], 4, 10);
  return buildVmcore({
    vmcoreinfo: `OSRELEASE=${release}\nPAGESIZE=4096\nNUMBER(phys_base)=0\nKERNELOFFSET=0\n${keys}`,
    mem,
    cpus: [{ pid: 1, regs: { rip: 0xffff_ffff_8100_0000n, rsp: 0xffff_c900_0000_0000n } }],
  });
}

describe('a file called --json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-json-file-'));
  const cwd = process.cwd();
  before(() => {
    writeFileSync(join(dir, '--json'), vmcore('6.1.0-dash'));
    process.chdir(dir);
  });
  after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('vmcore info -- --json reads it and prints text', async () => {
    const io = captureIo();
    assert.equal(await main(['vmcore', 'info', '--', '--json'], { io }), 0, io.err);
    assert.match(io.out, /^osrelease: +6\.1\.0-dash$/m);
    assert.throws(() => JSON.parse(io.out));
  });

  it('vmcore dmesg --json -- --json: JSON of the file called --json', async () => {
    const io = captureIo();
    assert.equal(await main(['vmcore', 'dmesg', '--json', '--', '--json'], { io }), 0, io.err);
    const records = JSON.parse(io.out) as { text: string }[];
    assert.deepEqual(
      records.map((r) => r.text),
      ['Linux version 6.1.0-dash'],
    );
  });

  it('vmcore save -- --json out: SRC is the file, the result is text', async () => {
    const io = captureIo();
    const out = join(dir, 'saved.elf');
    assert.equal(await main(['vmcore', 'save', '--no-dmesg', '--', '--json', out], { io }), 0, io.err);
    assert.match(io.out, /^saved \d+ bytes to .*saved\.elf/);
    assert.equal(io.err, '');
  });

  it('vmcore save SRC -- --json: DEST is the file called --json, which exists', async () => {
    const io = captureIo();
    assert.equal(
      await main(['vmcore', 'save', '--no-dmesg', join(dir, 'saved.elf'), '--', '--json'], { io }),
      1,
    );
    assert.match(io.err, /^kexec-ts: vmcore save: --json exists\n/);
  });

  it('kdump status --config --json: the configuration file is called --json', async () => {
    // A bad key in the file called --json shows up in the text report: that file was read as the config.
    const sys = new FakeSys({ files: { '--json': 'NO_SUCH_KEY=1\n' } });
    const io = captureIo();
    assert.equal(await main(['kdump', 'status', '--config', '--json'], { io, sys }), 1);
    assert.match(io.out, /^FAIL {2}configuration +--json:1: unknown key 'NO_SUCH_KEY'$/m);
    assert.throws(() => JSON.parse(io.out), 'text: --json was a value, not the option');
  });

  it('kdump load --dry-run --config=--json: the error names the file and is text', async () => {
    const sys = new FakeSys({ files: { '--json': 'NO_SUCH_KEY=1\n' } });
    const io = captureIo();
    assert.equal(await main(['kdump', 'load', '--dry-run', '--config=--json'], { io, sys }), 1);
    assert.match(io.err, /^kexec-ts: --json:1: unknown key 'NO_SUCH_KEY'\n/);
  });
});
