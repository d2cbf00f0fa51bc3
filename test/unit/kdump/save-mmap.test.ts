// `vmcore save` from a mapped file: pages are borrowed from the reader's mmap window (no copy) and
// runs of raw pages are written straight from it. With tiny windows (5 pages) on a real temporary
// file, runs cross window boundaries, the last window is short, and excluded pages cut runs; where a
// segment's file offset is not page aligned, pages straddle two windows and are copied instead. The
// output must be byte for byte what the in-memory reader (no mmap at all) produces.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeElfHeader } from '../../../src/formats/elf/ehdr.js';
import { encodeProgramHeaders, PT_LOAD } from '../../../src/formats/elf/phdr.js';
import { openFileReader } from '../../../src/kdump/file-reader.js';
import { bytesReader, type RandomAccessReader } from '../../../src/kdump/reader.js';
import { writeFilteredElf } from '../../../src/kdump/save/elf-writer.js';
import { type Compression, writeKdumpCompressed } from '../../../src/kdump/save/kdump-writer.js';
import { PhysMemory } from '../../../src/kdump/save/phys.js';
import { openFileSink, openFlatSink, unflatten } from '../../../src/kdump/save/sink.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { buildVmcore, MEM_SIZE, SynthMemory, writeLocklessLog } from '../../helpers/build-vmcore.js';

const PS = 4096;
const WINDOW = 5 * PS;

/** Memory with long non-zero runs (across windows), isolated pages, a noise page and a non-zero tail. */
function vmcore(): Uint8Array {
  const mem = new SynthMemory();
  const { keys } = writeLocklessLog(
    mem,
    [{ tsNsec: 5n, text: new TextEncoder().encode('hello mmap') }],
    4,
    10,
  );
  const fill = (p: number, v: number) => mem.bytes.fill(v, p * PS + 7, p * PS + 300);
  for (let p = 20; p < 45; p++) fill(p, p);
  for (const p of [50, 52, 54, 55]) fill(p, 0xaa);
  let x = 99;
  for (let i = 100 * PS; i < 101 * PS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    mem.bytes[i] = x >>> 24;
  }
  for (let p = 200; p < MEM_SIZE / PS; p++) fill(p, 0x55);
  return buildVmcore({
    vmcoreinfo: `OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n${keys}`,
    mem,
  });
}

/** The same dump with every PT_LOAD's bytes moved to a page-aligned file offset (as /proc/vmcore has them). */
function pageAligned(elf: Uint8Array): Uint8Array {
  const vm = openElfVmcore(bytesReader(elf));
  const loads = vm.phdrs.filter((p) => p.p_type === PT_LOAD);
  let at = Math.min(...loads.map((p) => Number(p.p_offset)));
  const placed = vm.phdrs.map((p) => {
    if (p.p_type !== PT_LOAD) return p;
    at = Math.ceil(at / PS) * PS;
    const q = { ...p, p_offset: BigInt(at) };
    at += Number(p.p_filesz);
    return q;
  });
  const out = new Uint8Array(at);
  out.set(elf.subarray(0, Math.min(...loads.map((p) => Number(p.p_offset)))));
  encodeElfHeader(vm.header, out);
  encodeProgramHeaders(placed, vm.header, out);
  placed.forEach((p, i) => {
    const o = vm.phdrs[i]!;
    if (p.p_type === PT_LOAD)
      out.set(elf.subarray(Number(o.p_offset), Number(o.p_offset + o.p_filesz)), Number(p.p_offset));
  });
  return out;
}

/** Counts what the writers borrowed, and checks no borrow spans two windows. */
function counting(r: RandomAccessReader) {
  const seen = { borrowed: 0, refused: 0, end: 0 };
  const reader: RandomAccessReader = {
    size: r.size,
    window: r.window,
    read: (o, n) => r.read(o, n),
    readInto: (into, o) => r.readInto?.(into, o),
    borrow(offset, length, fn) {
      const ok = r.borrow?.(offset, length, fn) ?? false;
      if (ok) {
        assert.equal(Math.floor(offset / WINDOW), Math.floor((offset + length - 1) / WINDOW), 'one window');
        seen.borrowed++;
        seen.end = Math.max(seen.end, offset + length);
      } else seen.refused++;
      return ok;
    },
  };
  return { reader, seen };
}

describe('vmcore save from mmap windows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-save-mmap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const unaligned = vmcore();
  const aligned = pageAligned(unaligned);
  const files = { aligned, unaligned };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, `${name}.elf`), bytes);

  it('the aligned copy holds the same memory; its last window is short', () => {
    const a = new PhysMemory(openElfVmcore(bytesReader(aligned)), PS);
    const u = new PhysMemory(openElfVmcore(bytesReader(unaligned)), PS);
    assert.deepEqual(a.ranges, u.ranges);
    const first = a.ranges[0]!.start;
    assert.deepEqual(a.readPages(first, MEM_SIZE / PS), u.readPages(first, MEM_SIZE / PS));
    assert.notEqual(aligned.byteLength % WINDOW, 0);
  });

  it('forEachRun: runs split at window ends and gaps, borrowed when aligned, bytes as readPages', () => {
    for (const [name, bytes] of Object.entries(files)) {
      const file = openFileReader(join(dir, `${name}.elf`), { mmap: true, window: WINDOW });
      try {
        const { reader, seen } = counting(file);
        const vm = openElfVmcore(reader);
        const phys = new PhysMemory(vm, PS);
        const ref = new PhysMemory(openElfVmcore(bytesReader(bytes)), PS);
        // Exclude every 5th pfn and a block of 9: runs have gaps of one page and of many.
        const excluded = new Uint8Array(Math.ceil(phys.maxMapnr / 8));
        const first = phys.ranges[0]!.start;
        const out = (p: number) => (p - first) % 5 === 4 || (p - first >= 60 && p - first < 69);
        for (let p = first; p < phys.maxMapnr; p++) if (out(p)) excluded[p >> 3]! |= 1 << (p & 7);
        const got: number[] = [];
        phys.forEachRun(8, excluded, (pfn, count, data) => {
          assert.ok(count >= 1 && count <= 8);
          assert.deepEqual(new Uint8Array(data), ref.readPages(pfn, count), `${name} pfn ${pfn}+${count}`);
          for (let i = 0; i < count; i++) got.push(pfn + i);
        });
        const want: number[] = [];
        for (let p = first; p < phys.maxMapnr; p++) if (!out(p)) want.push(p);
        assert.deepEqual(got, want, `${name}: every kept pfn once, ascending`);
        assert.ok(seen.borrowed > 10, `${name}: ${seen.borrowed} runs borrowed`);
        if (name === 'aligned') {
          assert.equal(seen.refused, 0, 'aligned pages never straddle a window');
          assert.equal(seen.end, aligned.byteLength, 'the last pages come from the short last window');
        } else assert.ok(seen.refused > 0, 'unaligned: pages across a window boundary are copied');
      } finally {
        file.close();
      }
    }
  });

  const save = (reader: RandomAccessReader, dest: string, compression: Compression, level: number) => {
    const sink = openFileSink(dest);
    const stats = writeKdumpCompressed(openElfVmcore(reader), sink, { level, compression });
    sink.commit();
    return { stats, bytes: new Uint8Array(readFileSync(dest)) };
  };

  for (const compression of ['none', 'zlib', 'lzo'] as const) {
    for (const level of [0, 1]) {
      it(`kdump-compressed (${compression}, level ${level}) is byte-identical to the unmapped save`, () => {
        for (const [name, bytes] of Object.entries(files)) {
          const want = save(bytesReader(bytes), join(dir, `${name}-ref.kdump`), compression, level);
          const file = openFileReader(join(dir, `${name}.elf`), { mmap: true, window: WINDOW });
          try {
            const { reader, seen } = counting(file);
            const got = save(reader, join(dir, `${name}-mmap.kdump`), compression, level);
            assert.ok(seen.borrowed > 0);
            assert.deepEqual(got.stats, want.stats);
            assert.ok(Buffer.from(got.bytes).equals(Buffer.from(want.bytes)), `${name}: same file`);
            if (level === 1) assert.ok(got.stats.zeroPages > 0 && got.stats.rawPages > 0);
          } finally {
            file.close();
          }
        }
      });
    }
  }

  it('the flattened stream (-F) from mapped pages unflattens to the same file', () => {
    const want = save(bytesReader(aligned), join(dir, 'flat-ref.kdump'), 'none', 1);
    const file = openFileReader(join(dir, 'aligned.elf'), { mmap: true, window: WINDOW });
    const out = join(dir, 'flat.stream');
    try {
      const fd = openSync(out, 'w');
      const sink = openFlatSink(fd);
      writeKdumpCompressed(openElfVmcore(file), sink, { level: 1, compression: 'none' });
      sink.commit();
      closeSync(fd);
    } finally {
      file.close();
    }
    assert.ok(Buffer.from(unflatten(new Uint8Array(readFileSync(out)))).equals(Buffer.from(want.bytes)));
  });

  it('filtered ELF (-E -d 1) written from the window is byte-identical to the unmapped one', () => {
    for (const [name, bytes] of Object.entries(files)) {
      const write = (reader: RandomAccessReader, dest: string) => {
        const sink = openFileSink(dest);
        const stats = writeFilteredElf(openElfVmcore(reader), sink, { level: 1 });
        sink.commit();
        return { stats, bytes: readFileSync(dest) };
      };
      const want = write(bytesReader(bytes), join(dir, `${name}-ref.elf`));
      const file = openFileReader(join(dir, `${name}.elf`), { mmap: true, window: WINDOW });
      try {
        const { reader, seen } = counting(file);
        const got = write(reader, join(dir, `${name}-mmap.elf`));
        assert.ok(seen.borrowed > 0);
        assert.deepEqual(got.stats, want.stats);
        assert.ok(want.stats.zeroPages > 0 && want.stats.loads > 1, 'zero pages split the PT_LOADs');
        assert.ok(got.bytes.equals(want.bytes), `${name}: same ELF`);
      } finally {
        file.close();
      }
    }
  });
});
