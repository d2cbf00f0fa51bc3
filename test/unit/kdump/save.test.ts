import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
});
