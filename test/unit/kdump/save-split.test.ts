// vmcore save --split (makedumpfile --split): part boundaries, the parts' headers, bitmaps and pages
// against the unsplit file, reading one part, and the command line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { UsageError } from '../../../src/errors.js';
import { DISK_DUMP_HEADER_SIZE } from '../../../src/kdump/compressed/layout.js';
import { openKdumpFile } from '../../../src/kdump/compressed/reader.js';
import { KdumpVmcore } from '../../../src/kdump/compressed/vmcore.js';
import { planFilter } from '../../../src/kdump/filter/index.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { writeKdumpCompressed } from '../../../src/kdump/save/kdump-writer.js';
import { countKept, PhysMemory } from '../../../src/kdump/save/phys.js';
import { openFileSink } from '../../../src/kdump/save/sink.js';
import { SPLIT_BLOCK_PFNS, splitBounds } from '../../../src/kdump/save/split.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildVmcore, SynthMemory, writeLocklessLog } from '../../helpers/build-vmcore.js';

const PS = 4096;

function vmcore(): Uint8Array {
  const mem = new SynthMemory();
  const { keys } = writeLocklessLog(mem, [{ tsNsec: 5n, text: new TextEncoder().encode('split me') }], 4, 10);
  // Text pages spread over the memory, so every part holds some.
  for (let p = 20; p < 250; p += 7) mem.bytes.fill(p, p * PS, p * PS + 300);
  const info = `OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n${keys}`;
  return buildVmcore({ vmcoreinfo: info, mem, cpus: [{ pid: 1, regs: {} }] });
}

describe('vmcore save --split', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-split-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const elf = vmcore();
  const vm = openElfVmcore(bytesReader(elf));
  const phys = new PhysMemory(vm, PS);

  it('cuts [0, max_mapnr) into contiguous parts at block multiples, balanced by kept pages', () => {
    const b = splitBounds(phys.ranges, undefined, phys.maxMapnr, 3, 64);
    assert.equal(b.length, 3);
    assert.equal(b[0]!.start, 0);
    assert.equal(b.at(-1)!.end, phys.maxMapnr);
    for (let i = 1; i < b.length; i++) assert.equal(b[i]!.start, b[i - 1]!.end);
    for (const r of b.slice(0, -1)) assert.equal(r.end % 64, 0, 'crash counts bitmap words from start_pfn');
    const kept = b.map((r) => countKept(phys.ranges, undefined, r.start, r.end));
    assert.equal(
      kept.reduce((x, y) => x + y, 0),
      phys.validPages,
    );
    for (const k of kept) assert.ok(Math.abs(k - phys.validPages / 3) <= 64, `part of ${k} pages`);
    assert.throws(() => splitBounds(phys.ranges, undefined, phys.maxMapnr, 1), UsageError);
    const blocks = Math.ceil(phys.maxMapnr / SPLIT_BLOCK_PFNS);
    assert.throws(
      () => splitBounds(phys.ranges, undefined, phys.maxMapnr, blocks + 1),
      (e: UsageError) => e.hint === `give between 2 and ${blocks} destination files`,
    );
  });

  it('parts carry the whole header and bitmaps, split fields, and together the whole set of pages', () => {
    const wholePath = join(dir, 'whole.kdump');
    const sink = openFileSink(wholePath);
    writeKdumpCompressed(vm, sink, { level: 1, compression: 'zlib' });
    sink.commit();
    const whole = new Uint8Array(readFileSync(wholePath));
    const w = openKdumpFile(bytesReader(whole));
    const filter = planFilter(vm, phys, 1);
    const bounds = splitBounds(phys.ranges, filter.exclusion?.excluded, phys.maxMapnr, 3, 64);
    const seen: { pfn: number; data: Uint8Array }[] = [];
    for (const [i, range] of bounds.entries()) {
      const path = join(dir, `part${i}.kdump`);
      const s = openFileSink(path);
      const stats = writeKdumpCompressed(vm, s, { level: 1, compression: 'zlib', split: range, filter });
      s.commit();
      const bytes = new Uint8Array(readFileSync(path));
      // crash refuses parts whose disk_dump_header differs ("derived from different vmcores").
      assert.deepEqual(bytes.subarray(0, DISK_DUMP_HEADER_SIZE), whole.subarray(0, DISK_DUMP_HEADER_SIZE));
      const p = openKdumpFile(bytesReader(bytes));
      assert.equal(p.sub.split, 1);
      assert.equal(p.sub.start_pfn_64, BigInt(range.start));
      assert.equal(p.sub.end_pfn_64, BigInt(range.end));
      assert.equal(p.sub.start_pfn, BigInt(range.start));
      assert.deepEqual(p.split, range);
      for (const which of [1, 2] as const) {
        assert.deepEqual(p.bitmap(which, 0, p.bitmapBytes), w.bitmap(which, 0, w.bitmapBytes));
      }
      let n = 0;
      for (const page of p.pages()) {
        assert.ok(page.pfn >= range.start && page.pfn < range.end);
        seen.push({ pfn: page.pfn, data: page.data });
        n++;
      }
      assert.equal(n, stats.dumpablePages);
      assert.deepEqual(stats.split, range);
    }
    const all = [...w.pages()].map((p) => ({ pfn: p.pfn, data: p.data }));
    assert.equal(seen.length, all.length);
    assert.deepEqual(seen, all);
  });

  it('reading one part: its pages by pfn, and a clear error for a page another part holds', () => {
    const part = new KdumpVmcore(bytesReader(new Uint8Array(readFileSync(join(dir, 'part1.kdump')))));
    const whole = new KdumpVmcore(bytesReader(new Uint8Array(readFileSync(join(dir, 'whole.kdump')))));
    const { start, end } = part.split!;
    const mid = Math.floor((start + end) / 2);
    assert.deepEqual(part.page(mid), whole.page(mid));
    assert.deepEqual(part.page(end - 1), whole.page(end - 1));
    assert.throws(() => part.page(end), /in another part of this split dump/);
  });

  it('from the command line: SRC and two or more parts; refused without SRC, with -E or to stdout', async () => {
    const src = join(dir, 'src.elf');
    writeFileSync(src, elf);
    const parts = [join(dir, 'cli-a.kdump'), join(dir, 'cli-b.kdump')];
    const io = captureIo();
    const code = await main(['vmcore', 'save', '--split', '-d', '1', '-l', '--json', src, ...parts], { io });
    assert.equal(code, 0, io.err);
    const r = JSON.parse(io.out.trim().split('\n').at(-1)!) as {
      parts: { path: string; split: { start: number; end: number }; dumpablePages: number }[];
    };
    assert.deepEqual(
      r.parts.map((p) => p.path),
      parts,
    );
    assert.equal(r.parts[0]!.split.start, 0);
    assert.equal(r.parts[1]!.split.end, phys.maxMapnr);
    assert.equal(r.parts[0]!.dumpablePages + r.parts[1]!.dumpablePages, phys.validPages);
    assert.ok(existsSync(`${parts[0]}.dmesg`), 'the log goes next to the first part');
    for (const bad of [
      ['--split', '-d', '1', src, join(dir, 'only.kdump')],
      ['--split', '-E', '-d', '1', src, parts[0]!, parts[1]!],
      ['--split', '-d', '1', src, parts[0]!, '-'],
    ]) {
      const e = captureIo();
      assert.notEqual(await main(['vmcore', 'save', '--force', ...bad], { io: e }), 0, bad.join(' '));
      assert.match(e.err, /--split/);
    }
    const again = captureIo();
    assert.notEqual(await main(['vmcore', 'save', '--split', '-d', '1', src, ...parts], { io: again }), 0);
    assert.match(again.err, /exists/);
  });
});
