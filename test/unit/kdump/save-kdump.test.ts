import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseSaveArgs } from '../../../src/cli/commands/vmcore-save.js';
import { main } from '../../../src/cli/main.js';
import { UsageError } from '../../../src/errors.js';
import {
  DiskDumpHeader,
  DUMP_DH_COMPRESSED_INCOMPLETE,
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
  END_FLAG_FLAT_HEADER,
  FLAT_DATA_HEADER_SIZE,
  FLAT_HEADER_BLOCK,
  KdumpSubHeader,
  kdumpLayout,
  MakedumpfileDataHeader,
} from '../../../src/kdump/compressed/layout.js';
import { openKdumpFile } from '../../../src/kdump/compressed/reader.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { writeKdumpCompressed } from '../../../src/kdump/save/kdump-writer.js';
import { PhysMemory } from '../../../src/kdump/save/phys.js';
import { openFileSink, openFlatSink, unflatten } from '../../../src/kdump/save/sink.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { captureIo } from '../../../src/sys/io.js';
import {
  buildVmcore,
  MEM_SIZE,
  PHYS_START,
  SynthMemory,
  writeLocklessLog,
} from '../../helpers/build-vmcore.js';

const PS = 4096;
function vmcore(): Uint8Array {
  const mem = new SynthMemory();
  const { keys } = writeLocklessLog(
    mem,
    [{ tsNsec: 5n, text: new TextEncoder().encode('hello kdump') }],
    4,
    10,
  );
  // Pages of text (compressible) and of noise (stored raw) among zero pages.
  for (let p = 40; p < 48; p++) mem.bytes.fill(p, p * PS, p * PS + 100);
  let x = 12345;
  for (let i = 200 * PS; i < 201 * PS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    mem.bytes[i] = x >>> 24;
  }
  const info = `OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\nNUMBER(phys_base)=-16777216\n${keys}`;
  return buildVmcore({
    vmcoreinfo: info,
    mem,
    cpus: [
      { pid: 1, regs: {} },
      { pid: 0, regs: {} },
    ],
  });
}

describe('vmcore save: kdump-compressed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-kdump-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const elf = vmcore();
  const vm = openElfVmcore(bytesReader(elf));
  const phys = new PhysMemory(vm, PS);
  const first = Number(PHYS_START / BigInt(PS));

  it('maps the RAM PT_LOAD to pfns; the kernel-text PT_LOAD it repeats adds none', () => {
    assert.equal(phys.segments.length, 1);
    assert.deepEqual(phys.ranges, [{ start: first, end: first + MEM_SIZE / PS }]);
    assert.equal(phys.maxMapnr, first + MEM_SIZE / PS);
  });

  for (const compression of ['none', 'zlib', 'zstd'] as const) {
    it(`writes header v6 fields by the layout and reads every page back (${compression})`, () => {
      const dest = join(dir, `a-${compression}.kdump`);
      const sink = openFileSink(dest);
      const s = writeKdumpCompressed(vm, sink, { level: 1, compression, chunk: 64 * PS });
      sink.commit();
      const file = new Uint8Array(readFileSync(dest));
      const h = DiskDumpHeader.decode(file);
      const notes = vm.phdrs.find((p) => p.p_type === 4)!;
      const layout = kdumpLayout(PS, Number(notes.p_filesz), phys.maxMapnr, phys.validPages);
      assert.equal(h.signature, 'KDUMP   ');
      assert.equal(h.header_version, 6);
      assert.equal(h.block_size, PS);
      assert.equal(h.sub_hdr_size, layout.subHdrSize);
      assert.equal(h.bitmap_blocks, layout.bitmapBlocks);
      assert.equal(h.max_mapnr, phys.maxMapnr);
      assert.equal(h.nr_cpus, 2);
      assert.equal(h.timestamp_sec, 1700000000n);
      assert.equal(
        h.status,
        { none: 0, zlib: DUMP_DH_COMPRESSED_ZLIB, zstd: DUMP_DH_COMPRESSED_ZSTD }[compression],
      );
      assert.match(new TextDecoder().decode(h.utsname.subarray(130, 150)), /^6\.1\.0-test/);
      const sub = KdumpSubHeader.decode(file, PS);
      assert.equal(sub.phys_base, 2n ** 64n - 16777216n);
      assert.equal(sub.dump_level, 1);
      assert.equal(sub.offset_note, BigInt(PS + 104));
      assert.equal(sub.size_note, notes.p_filesz);
      assert.equal(sub.max_mapnr_64, BigInt(phys.maxMapnr));
      const vi = file.subarray(
        Number(sub.offset_vmcoreinfo),
        Number(sub.offset_vmcoreinfo + sub.size_vmcoreinfo),
      );
      assert.equal(new TextDecoder().decode(vi), vm.vmcoreinfoRaw);
      const k = openKdumpFile(bytesReader(file));
      assert.equal(k.countBits(1), phys.validPages);
      assert.equal(k.countBits(2), phys.validPages);
      let n = 0;
      const zeroOffsets = new Set<bigint>();
      for (const p of k.pages()) {
        assert.deepEqual(new Uint8Array(p.data), phys.readPages(p.pfn, 1), `pfn ${p.pfn}`);
        if (p.data.every((b) => b === 0)) zeroOffsets.add(p.desc.offset);
        n++;
      }
      assert.equal(n, phys.validPages);
      assert.deepEqual([...zeroOffsets], [BigInt(layout.dataStart)], 'one shared zero page');
      assert.ok(s.zeroPages > phys.validPages / 2, 'the synthetic memory is mostly zero');
      if (compression === 'none') assert.equal(s.compressedPages, 0);
      else
        assert.ok(s.compressedPages > 0 && s.rawPages >= 1, 'text compresses, the noise page is stored raw');
      assert.equal(s.bytes, file.byteLength);
    });
  }

  it('lzo: pages by liblzo2 (the result says so), read back by our decoder', () => {
    const dest = join(dir, 'lzo-lib.kdump');
    const sink = openFileSink(dest);
    const s = writeKdumpCompressed(vm, sink, { level: 1, compression: 'lzo', chunk: 64 * PS });
    sink.commit();
    assert.match(s.compressor ?? '', /^liblzo2 2\.\d+$/);
    const file = new Uint8Array(readFileSync(dest));
    assert.equal(DiskDumpHeader.decode(file).status, DUMP_DH_COMPRESSED_LZO);
    let n = 0;
    for (const p of openKdumpFile(bytesReader(file)).pages()) {
      assert.deepEqual(new Uint8Array(p.data), phys.readPages(p.pfn, 1), `pfn ${p.pfn}`);
      n++;
    }
    assert.equal(n, phys.validPages);
    assert.ok(s.compressedPages > 0 && s.rawPages >= 1, 'text compresses, the noise page is stored raw');
  });

  it('the flattened stream (-F) unflattens to the same file', () => {
    const direct = join(dir, 'flat-direct.kdump');
    const file = openFileSink(direct);
    writeKdumpCompressed(vm, file, { level: 1, compression: 'zlib', chunk: 16 * PS });
    file.commit();
    const flat = join(dir, 'flat.bin');
    const fd = openSync(flat, 'w');
    const sink = openFlatSink(fd);
    writeKdumpCompressed(vm, sink, { level: 1, compression: 'zlib', chunk: 16 * PS });
    sink.commit();
    closeSync(fd);
    const stream = new Uint8Array(readFileSync(flat));
    assert.equal(new TextDecoder().decode(stream.subarray(0, 12)), 'makedumpfile');
    assert.deepEqual(unflatten(stream), new Uint8Array(readFileSync(direct)));
    // crash reads a flattened file by binary search over its records sorted by offset: a range written
    // twice (a header rewritten at the end) may be read from its first, incomplete record.
    const spans: [number, number][] = [];
    for (let at = FLAT_HEADER_BLOCK; ; ) {
      const r = MakedumpfileDataHeader.decode(stream, at);
      if (r.offset === END_FLAG_FLAT_HEADER) break;
      spans.push([Number(r.offset), Number(r.offset + r.buf_size)]);
      at += FLAT_DATA_HEADER_SIZE + Number(r.buf_size);
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i]![0] >= spans[i - 1]![1], `record at ${spans[i]![0]} overlaps the one before`);
    }
    const first = MakedumpfileDataHeader.decode(stream, FLAT_HEADER_BLOCK);
    assert.equal(first.offset, 0n, 'the header is the first record');
    const h = DiskDumpHeader.decode(stream.subarray(FLAT_HEADER_BLOCK + FLAT_DATA_HEADER_SIZE));
    assert.equal(h.status, DUMP_DH_COMPRESSED_ZLIB, 'written once, complete (no INCOMPLETE flag)');
  });

  it('a failed dump keeps the INCOMPLETE flag and never takes the final name', () => {
    let reads = 0;
    const failing = openElfVmcore({
      size: elf.byteLength,
      read(offset, length) {
        if (length >= 8 * PS && ++reads > 2) throw new Error('EIO (simulated)');
        return elf.subarray(offset, offset + length);
      },
    });
    const dest = join(dir, 'fail.kdump');
    const sink = openFileSink(dest);
    assert.throws(() =>
      writeKdumpCompressed(failing, sink, { level: 1, compression: 'zlib', chunk: 8 * PS }),
    );
    assert.equal(sink.abort(`${dest}.incomplete`), `${dest}.incomplete`);
    assert.equal(existsSync(dest), false);
    const h = DiskDumpHeader.decode(new Uint8Array(readFileSync(`${dest}.incomplete`)));
    assert.equal(h.status & DUMP_DH_COMPRESSED_INCOMPLETE, DUMP_DH_COMPRESSED_INCOMPLETE);
  });

  it('parses makedumpfile-style options', () => {
    assert.deepEqual(
      { ...parseSaveArgs(['-d', '31', '-c', 'in', 'out'], false, false) },
      {
        src: 'in',
        dest: 'out',
        level: 31,
        compression: 'zlib',
        elf: false,
        flat: false,
        force: false,
        json: false,
        dmesg: true,
        mmap: true,
      },
    );
    assert.equal(parseSaveArgs(['--non-mmap', 'in', 'out'], false, false).mmap, false);
    assert.equal(parseSaveArgs(['--zstd', '-'], true, false).flat, true);
    assert.equal(parseSaveArgs(['-d1', 'x'], false, false).level, 1);
    assert.equal(parseSaveArgs(['x'], false, false).elf, true);
    assert.throws(() => parseSaveArgs(['-E', '-c', 'x'], false, false), UsageError);
    assert.equal(parseSaveArgs(['-l', 'x'], false, false).compression, 'lzo');
    assert.equal(parseSaveArgs(['-p', 'x'], false, false).compression, 'snappy');
    assert.equal(parseSaveArgs(['-z', 'x'], false, false).compression, 'zstd');
    assert.equal(parseSaveArgs(['-d', '31', 'x'], false, false).compression, 'none', 'as makedumpfile');
    assert.throws(() => parseSaveArgs(['-d', '32', 'x'], false, false), UsageError);
  });

  it('kexec-ts vmcore save -d 31 -c: log first, level truly applied (1) in the header, --json result', async () => {
    const src = join(dir, 'src.elf');
    writeFileSync(src, elf);
    const dest = join(dir, 'cli.kdump');
    const io = captureIo();
    assert.equal(await main(['vmcore', 'save', '-d', '31', '-c', '--json', src, dest], { io }), 0, io.err);
    assert.match(io.err, /applying level 1/);
    const r = JSON.parse(io.out.trim().split('\n').at(-1)!) as { level: number; levelRequested: number };
    assert.equal(r.level, 1);
    assert.equal(r.levelRequested, 31);
    // --json progress on stderr: the last line covers every dumpable page; the result names the read method.
    const progress = io.err
      .split('\n')
      .filter((l) => l.startsWith('{"event":"progress"'))
      .map((l) => JSON.parse(l) as { pages: number; total: number; percent: number; etaSec: number });
    assert.ok(progress.length >= 1, io.err);
    const last = progress.at(-1)!;
    assert.deepEqual([last.pages, last.percent, last.etaSec], [last.total, 100, 0]);
    assert.equal((r as unknown as { dumpablePages: number }).dumpablePages, last.total);
    assert.equal((r as unknown as { read: string }).read, 'mmap', 'a regular file is mapped too');
    assert.equal((r as unknown as { compressor: string }).compressor, 'node:zlib');
    // --non-mmap reads with read() and writes the same file.
    const viaRead = join(dir, 'cli-read.kdump');
    const io2 = captureIo();
    const args = ['vmcore', 'save', '-d', '31', '-c', '--json', '--no-dmesg', '--non-mmap', src, viaRead];
    assert.equal(await main(args, { io: io2 }), 0, io2.err);
    assert.equal((JSON.parse(io2.out.trim().split('\n').at(-1)!) as { read: string }).read, 'read');
    assert.ok(readFileSync(viaRead).equals(readFileSync(dest)));
    assert.match(readFileSync(`${dest}.dmesg`, 'latin1'), /\] hello kdump\n/);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')));
  });
});
