import assert from 'node:assert/strict';
import {
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { UsageError } from '../../../src/errors.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { elfExtent, saveElfVmcore } from '../../../src/kdump/save.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildVmcore, SynthMemory, writeLocklessLog } from '../../helpers/build-vmcore.js';

function vmcore(): Uint8Array {
  const mem = new SynthMemory();
  const { keys } = writeLocklessLog(mem, [{ tsNsec: 0n, text: new TextEncoder().encode('hello') }], 4, 10);
  return buildVmcore({ vmcoreinfo: `OSRELEASE=6.1.0-test\n${keys}`, mem });
}

describe('vmcore save', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-save-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const elf = vmcore();

  it('copies exactly the ELF (trailing disk bytes dropped), in chunks, mode 0600, no temp left', () => {
    const disk = new Uint8Array(elf.byteLength + 12345).fill(0xee);
    disk.set(elf);
    const vm = openElfVmcore(bytesReader(disk));
    assert.equal(elfExtent(vm), elf.byteLength);
    const dest = join(dir, 'a.elf');
    const seen: number[] = [];
    const r = saveElfVmcore(vm, dest, { chunk: 4096, onProgress: (d) => seen.push(d) });
    assert.equal(r.bytes, elf.byteLength);
    assert.ok(r.sparse > 0, 'the synthetic memory is mostly zero');
    assert.deepEqual(new Uint8Array(readFileSync(dest)), elf);
    assert.equal(statSync(dest).mode & 0o777, 0o600);
    assert.equal(seen.at(-1), elf.byteLength);
    assert.deepEqual(readdirSync(dir), ['a.elf']);
  });

  it('refuses to overwrite unless forced; removes the temporary file on a read error', () => {
    const dest = join(dir, 'b.elf');
    writeFileSync(dest, 'old');
    const vm = openElfVmcore(bytesReader(elf));
    assert.throws(() => saveElfVmcore(vm, dest), UsageError);
    saveElfVmcore(vm, dest, { force: true });
    assert.equal(statSync(dest).size, elf.byteLength);
    const short = openElfVmcore(bytesReader(elf.subarray(0, elf.byteLength - 100)));
    assert.throws(() => saveElfVmcore(short, join(dir, 'c.elf'), { chunk: 4096 }));
    assert.equal(existsSync(join(dir, 'c.elf')), false);
    assert.deepEqual(readdirSync(dir).sort(), ['a.elf', 'b.elf']);
  });

  it('kexec-ts vmcore save SRC DEST', async () => {
    const src = join(dir, 'src.elf');
    writeFileSync(src, elf);
    const io = captureIo();
    assert.equal(await main(['vmcore', 'save', src, join(dir, 'd.elf')], { io }), 0);
    assert.match(io.out, /^saved \d+ bytes to .*d\.elf/);
    const json = captureIo();
    assert.equal(await main(['vmcore', 'save', '--json', src, join(dir, 'e.elf')], { io: json }), 0);
    const last = JSON.parse(json.err.trim().split('\n').at(-1)!) as {
      event: string;
      pages: number;
      total: number;
    };
    assert.equal(last.event, 'progress');
    assert.equal(last.pages, last.total);
    assert.equal(last.total, Math.ceil(elf.byteLength / 4096));
    const again = captureIo();
    assert.equal(await main(['vmcore', 'save', src, join(dir, 'd.elf')], { io: again }), 1);
    assert.match(again.err, /exists/);
  });

  it('--force with DEST the source itself (same path, symlink, hard link, or SRC as DEST.dmesg) is refused and writes nothing', async () => {
    const src = join(dir, 'only-copy.elf');
    writeFileSync(src, elf);
    symlinkSync(src, join(dir, 'via-symlink.elf'));
    linkSync(src, join(dir, 'via-hardlink.elf'));
    writeFileSync(join(dir, 'dm.elf'), elf);
    const cases: [string, string, string[]][] = [
      [src, src, []],
      [src, join(dir, 'via-symlink.elf'), []],
      [src, join(dir, 'via-hardlink.elf'), []],
      [src, src, ['-d', '31', '-c']],
      [join(dir, 'dm.elf.dmesg'), join(dir, 'dm.elf'), []],
    ];
    writeFileSync(join(dir, 'dm.elf.dmesg'), elf);
    for (const [from, to, opts] of cases) {
      const before = readdirSync(dir).sort();
      const io = captureIo();
      assert.equal(
        await main(['vmcore', 'save', '--force', ...opts, from, to], { io }),
        1,
        `${from} -> ${to}`,
      );
      assert.match(io.err, /is the source/);
      assert.deepEqual(readdirSync(dir).sort(), before, 'no file written, no temporary left');
      assert.deepEqual(new Uint8Array(readFileSync(from)), elf, 'the source is unchanged');
    }
  });
});
