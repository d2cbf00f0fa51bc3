import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FormatError } from '../../../src/errors.js';
import { decompressPage, PAGE_COMPRESSIONS, pageCompressor } from '../../../src/kdump/compressed/codec.js';
import { openFlatReader } from '../../../src/kdump/compressed/flat-reader.js';
import {
  DiskDumpHeader,
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
  END_FLAG_FLAT_HEADER,
  KdumpSubHeader,
  MakedumpfileDataHeader,
  MakedumpfileHeader,
  PAGE_DESC_SIZE,
} from '../../../src/kdump/compressed/layout.js';
import { KdumpVmcore } from '../../../src/kdump/compressed/vmcore.js';
import { formatKernelLog, readKernelLog } from '../../../src/kdump/dmesg/index.js';
import { logSource } from '../../../src/kdump/dmesg/source.js';
import { type Dump, dumpKind, openDump } from '../../../src/kdump/dump.js';
import { summarizeVmcore } from '../../../src/kdump/info.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { writeKdumpCompressed } from '../../../src/kdump/save/kdump-writer.js';
import { PhysMemory } from '../../../src/kdump/save/phys.js';
import { openFlatSink } from '../../../src/kdump/save/sink.js';
import { ElfVmcore, openElfVmcore, START_KERNEL_MAP } from '../../../src/kdump/vmcore-elf.js';
import {
  buildVmcore,
  MEM_SIZE,
  PAGE_OFFSET,
  PHYS_START,
  SynthMemory,
  writeLocklessLog,
} from '../../helpers/build-vmcore.js';
import { memorySink } from '../../helpers/memory-sink.js';

const PS = 4096;

type Mapping = '4k' | '2m' | '5level';
/** x86_64 page tables in the kernel-text part of memory mapping the direct map (PAGE_OFFSET) of RAM. */
function pageTables(mem: SynthMemory, mapping: Mapping): string {
  const raw = mem.alloc(6 * PS, true);
  const first = (raw + BigInt(PS - 1)) & ~BigInt(PS - 1);
  const phys = (va: bigint) => va - START_KERNEL_MAP; // NUMBER(phys_base)=0
  const shifts = mapping === '5level' ? [48n, 39n, 30n, 21n, 12n] : [39n, 30n, 21n, 12n];
  const leafShift = mapping === '2m' ? 21n : 12n;
  const tables = shifts.filter((s) => s >= leafShift).map((_, i) => first + BigInt(i * PS));
  const base = PAGE_OFFSET + PHYS_START;
  for (let l = 0; l < tables.length - 1; l++) {
    const idx = (base >> shifts[l]!) & 511n;
    mem.u64(tables[l]! + idx * 8n, phys(tables[l + 1]!) | 0x63n);
  }
  const leaf = tables.at(-1)!;
  if (leafShift === 21n) {
    // PSE, and bit 12 (PAT in a large-page entry) set: it must not leak into the address
    mem.u64(leaf + ((base >> 21n) & 511n) * 8n, PHYS_START | 0x1000n | 0xe3n);
  } else {
    for (let off = 0n; off < BigInt(MEM_SIZE); off += BigInt(PS)) {
      mem.u64(leaf + (((base + off) >> 12n) & 511n) * 8n, (PHYS_START + off) | 0x63n);
    }
  }
  return `SYMBOL(init_top_pgt)=${first.toString(16)}\nNUMBER(pgtable_l5_enabled)=${mapping === '5level' ? 1 : 0}\n`;
}

function vmcore(mapping: Mapping): Uint8Array {
  const mem = new SynthMemory();
  const tables = pageTables(mem, mapping);
  const records = ['first line', 'caf\xc3\xa9 kdump-compressed', 'Kernel panic - not syncing: test'];
  const { keys } = writeLocklessLog(
    mem,
    records.map((t, i) => ({
      tsNsec: BigInt(i + 1) * 1_000_000n,
      text: new Uint8Array(Buffer.from(t, 'latin1')),
    })),
    4,
    10,
  );
  let x = 99;
  for (let i = 200 * PS; i < 202 * PS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    mem.bytes[i] = x >>> 24;
  }
  for (let p = 100; p < 110; p++) mem.bytes.fill(p, p * PS, p * PS + 700);
  mem.bytes.fill(0x5a, MEM_SIZE - PS);
  const memSection = mem.alloc(64); // a direct-map pointer, as SYMBOL(mem_section) is
  return buildVmcore({
    vmcoreinfo: `OSRELEASE=6.1.0-kdump\nPAGESIZE=4096\nCRASHTIME=1700000123\nNUMBER(phys_base)=0\nSYMBOL(mem_section)=${memSection.toString(16)}\n${tables}${keys}`,
    mem,
    cpus: [
      { pid: 42, regs: { rip: 0xffff_ffff_8100_1234n, rsp: 0xffff_c900_0000_7f00n } },
      { pid: 0, regs: { rip: 0xffff_ffff_8100_5678n } },
    ],
  });
}

function toKdump(elf: ElfVmcore, compression: (typeof PAGE_COMPRESSIONS)[number], level = 1): Uint8Array {
  const sink = memorySink();
  writeKdumpCompressed(elf, sink, { level, compression, chunk: 32 * PS });
  return sink.bytes();
}

/** A flattened stream from (offset, text) records. */
function flatStream(records: [number, string][]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(4096)];
  MakedumpfileHeader.encode({ signature: 'makedumpfile', type: 1n, version: 1n }, parts[0]!);
  const rec = (off: bigint, size: bigint, data = new Uint8Array(0)) => {
    const h = new Uint8Array(16);
    MakedumpfileDataHeader.encode({ offset: off, buf_size: size }, h);
    parts.push(h, data);
  };
  for (const [off, text] of records) rec(BigInt(off), BigInt(text.length), new TextEncoder().encode(text));
  rec(END_FLAG_FLAT_HEADER, END_FLAG_FLAT_HEADER);
  return Buffer.concat(parts);
}

const log = (d: Dump) => formatKernelLog(readKernelLog(logSource(d)!));

describe('kdump-compressed input: KdumpVmcore through the Dump interface', () => {
  const elfBytes = vmcore('4k');
  const elf = openElfVmcore(bytesReader(elfBytes));
  const phys = new PhysMemory(elf, PS);

  for (const compression of PAGE_COMPRESSIONS) {
    it(`${compression}: dmesg, info and every physical page equal the ELF's`, () => {
      const file = toKdump(elf, compression);
      const k = openDump(bytesReader(file));
      assert.ok(k instanceof KdumpVmcore);
      assert.equal(k.format, 'kdump');
      assert.equal(log(k), log(elf));
      assert.match(log(k), /\] caf\\xc3\\xa9 kdump-compressed\n/);
      const a = summarizeVmcore(elf);
      const b = summarizeVmcore(k);
      for (const key of [
        'osrelease',
        'crashTime',
        'cpus',
        'arch',
        'pageSize',
        'physBase',
        'vmcoreinfo',
      ] as const) {
        assert.deepEqual(b[key], a[key], key);
      }
      assert.deepEqual(b.log, a.log);
      assert.equal(b.cpus[0]!.rip, '0xffffffff81001234');
      assert.equal(b.kdump?.compression, compression);
      assert.equal(b.kdump?.dumpablePages, phys.validPages);
      assert.equal(b.kdump?.release, '6.1.0-kdump');
      assert.equal(b.pageOffset, `0x${PAGE_OFFSET.toString(16)}`, 'direct map found by the page-table walk');
      for (const r of phys.ranges) {
        for (let pfn = r.start; pfn < r.end; pfn += 7) {
          assert.deepEqual(
            k.readPhys(BigInt(pfn * PS), PS),
            elf.readPhys(BigInt(pfn * PS), PS),
            `pfn ${pfn}`,
          );
        }
      }
    });
  }

  for (const mapping of ['2m', '5level'] as const) {
    it(`virtual addresses by page-table walk: ${mapping} mapping`, () => {
      const e = openElfVmcore(bytesReader(vmcore(mapping)));
      const k = new KdumpVmcore(bytesReader(toKdump(e, 'lzo')));
      assert.equal(log(k), log(e));
      const va = PAGE_OFFSET + PHYS_START + 100n * BigInt(PS) + 5n;
      assert.equal(k.virtToPhys(va), PHYS_START + 100n * BigInt(PS) + 5n);
      assert.deepEqual(k.readVirt(va, 9000), e.readVirt(va, 9000));
      assert.equal(k.virtToPhys(PAGE_OFFSET + (1n << 40n)), undefined, 'an unmapped address');
      assert.throws(() => k.readVirt(PAGE_OFFSET + (1n << 40n), 8), /not mapped/);
    });
  }

  it('excluded pages (bitmap 2 clear) read as zero; pfns outside bitmap 1 fail', () => {
    const file = toKdump(elf, 'zlib');
    const k0 = new KdumpVmcore(bytesReader(file));
    const bs = PS;
    const h = DiskDumpHeader.decode(file);
    const bitmapBytes = (h.bitmap_blocks / 2) * bs;
    const bitmap2 = (1 + h.sub_hdr_size) * bs + bitmapBytes;
    // the last dumpable pfn: clearing its bit leaves every other descriptor index unchanged
    const last = phys.ranges.at(-1)!.end - 1;
    assert.deepEqual(k0.readPhys(BigInt(last * PS), PS), new Uint8Array(PS).fill(0x5a));
    file[bitmap2 + (last >> 3)]! &= ~(1 << (last & 7));
    const k = new KdumpVmcore(bytesReader(file));
    assert.equal(k.dumpablePages, phys.validPages - 1);
    assert.deepEqual(k.readPhys(BigInt(last * PS), PS), new Uint8Array(PS));
    const noise = BigInt((phys.ranges[0]!.start + 200) * PS);
    assert.deepEqual(k.readPhys(noise, PS), elf.readPhys(noise, PS));
    assert.throws(() => k.readPhys(BigInt(phys.ranges[0]!.start - 1) * BigInt(PS), 8), /not in the dump/);
    assert.throws(() => k.readPhys(BigInt(phys.maxMapnr) * BigInt(PS), 8), /not in the dump/);
  });

  it('bounds: corrupt descriptor sizes, block sizes and note sizes are typed errors', () => {
    const file = toKdump(elf, 'lzo');
    const h = DiskDumpHeader.decode(file);
    const descStart = (1 + h.sub_hdr_size + h.bitmap_blocks) * PS;
    const bad = file.slice();
    new DataView(bad.buffer).setUint32(descStart + PAGE_DESC_SIZE * 200 + 8, PS + 1, true);
    const k = new KdumpVmcore(bytesReader(bad));
    const pfn = phys.ranges[0]!.start + 200;
    assert.throws(() => k.readPhys(BigInt(pfn * PS), 8), /page_desc.size/);
    const bs = file.slice();
    new DataView(bs.buffer).setInt32(428, 3000, true);
    assert.throws(() => new KdumpVmcore(bytesReader(bs)), FormatError);
    const note = file.slice();
    const sub = KdumpSubHeader.decode(note, PS);
    new DataView(note.buffer).setBigUint64(PS + 56, sub.size_note + (1n << 40n), true);
    assert.throws(() => new KdumpVmcore(bytesReader(note)), /size_note/);
  });

  it('page codecs: each flag decodes what its compressor wrote; wrong sizes and flags are refused', () => {
    const page = new Uint8Array(PS).map((_, i) => (i * 7) & 0x3f);
    const flags = {
      zlib: DUMP_DH_COMPRESSED_ZLIB,
      lzo: DUMP_DH_COMPRESSED_LZO,
      snappy: DUMP_DH_COMPRESSED_SNAPPY,
      zstd: DUMP_DH_COMPRESSED_ZSTD,
    };
    for (const [name, flag] of Object.entries(flags)) {
      const packed = pageCompressor(name as keyof typeof flags)(page)!;
      assert.ok(packed.byteLength < PS / 4, name);
      assert.deepEqual(new Uint8Array(decompressPage(packed, flag, PS)), page, name);
      assert.throws(() => decompressPage(packed, flag, PS * 2), FormatError, `${name} short`);
    }
    assert.throws(() => decompressPage(page, 0x40, PS), /flags 0x40/);
    assert.throws(() => decompressPage(page.subarray(1), 0, PS), FormatError);
    assert.throws(
      () => decompressPage(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0), DUMP_DH_COMPRESSED_SNAPPY, PS),
      /snappy/,
    );
  });

  it('a flattened stream (-F) reads in place: records out of order, a rewritten header (later wins)', () => {
    const direct = toKdump(elf, 'lzo');
    const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-flat-'));
    const path = join(dir, 'flat');
    const fd = openSync(path, 'w');
    const flat = openFlatSink(fd);
    writeKdumpCompressed(elf, flat, { level: 1, compression: 'lzo', chunk: 8 * PS });
    flat.commit();
    closeSync(fd);
    const bytes = new Uint8Array(readFileSync(path));
    rmSync(dir, { recursive: true });
    assert.equal(dumpKind(bytesReader(bytes)), 'flat');
    const k = openDump(bytesReader(bytes));
    assert.ok(k instanceof KdumpVmcore);
    assert.equal(k.reader.size, direct.byteLength);
    assert.deepEqual(k.reader.read(0, direct.byteLength), direct, 'the same file as written directly');
    assert.equal(log(k), log(elf));
    // a partial overwrite: a later record over the middle of two earlier ones
    const r = openFlatReader(
      bytesReader(
        flatStream([
          [0, 'aaaa'],
          [4, 'bbbb'],
          [2, 'XYZ'],
          [12, 'c'],
        ]),
      ),
    );
    assert.equal(Buffer.from(r.read(0, 13)).toString('latin1'), 'aaXYZbbb\0\0\0\0c');
  });

  it('openDump tells the formats apart by signature', () => {
    assert.equal(dumpKind(bytesReader(elfBytes)), 'elf');
    assert.ok(openDump(bytesReader(elfBytes)) instanceof ElfVmcore);
    const cut = new Uint8Array(4096 + 32);
    MakedumpfileHeader.encode({ signature: 'makedumpfile', type: 1n, version: 1n }, cut);
    assert.throws(() => openDump(bytesReader(cut)), /no end marker/);
    assert.throws(() => openDump(bytesReader(new Uint8Array(64))), /neither an ELF vmcore nor/);
  });
});
