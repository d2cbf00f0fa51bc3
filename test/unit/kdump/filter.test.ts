// Dump-level filtering on a synthetic vmcore with real x86_64 page tables, a SPARSEMEM_EXTREME
// mem_section and 6.1 struct pages (test/helpers/build-vmcore.ts writeMemMap). The planted pages and the
// expected verdicts follow makedumpfile's rules (makedumpfile.c __exclude_unnecessary_pages): first match wins, compound
// tails follow their head, a buddy spans 2^private pages, hwpoison/offline go whenever struct pages are read.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { KdumpSubHeader } from '../../../src/kdump/compressed/layout.js';
import { openKdumpFile } from '../../../src/kdump/compressed/reader.js';
import { openFileReader } from '../../../src/kdump/file-reader.js';
import { planFilter } from '../../../src/kdump/filter/index.js';
import { memMapSections, sparseLayout } from '../../../src/kdump/filter/memmap.js';
import { planLevel } from '../../../src/kdump/filter/rules.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { split } from '../../../src/kdump/save/elf-writer.js';
import { writeKdumpCompressed } from '../../../src/kdump/save/kdump-writer.js';
import { PhysMemory } from '../../../src/kdump/save/phys.js';
import { openFileSink } from '../../../src/kdump/save/sink.js';
import { openElfVmcore, START_KERNEL_MAP } from '../../../src/kdump/vmcore-elf.js';
import { parseVmcoreinfo } from '../../../src/kdump/vmcoreinfo.js';
import { elfPhysSource, X86_64PageTables } from '../../../src/kdump/x86-64-pagetable.js';
import { captureIo } from '../../../src/sys/io.js';
import {
  buildVmcore,
  FIRST_PFN,
  MEM_SIZE,
  PAGE_OFFSET,
  PHYS_START,
  SynthMemory,
  type SynthPage,
  TEXT_SIZE,
  VMEMMAP,
  writeMemMap,
} from '../../helpers/build-vmcore.js';

const PS = 4096;
const F = FIRST_PFN;
const bit = (n: number) => 1n << BigInt(n);
// 6.1 flag numbers (NUMBER(PG_*) in the real VMCOREINFO).
const LRU = bit(4);
const SLAB = bit(9);
const SWAPCACHE = bit(10);
const PRIVATE = bit(13);
const HEAD = bit(16);
const SWAPBACKED = bit(19);
const HWPOISON = bit(23);
const ANON = 0xffff_8880_0123_4001n;
const FILE = 0xffff_8880_0123_4000n;
const tail = (head: number) => VMEMMAP + BigInt(head * 64) + 1n;

/** Planted struct pages, by pfn offset from the first pfn. */
const PAGES: SynthPage[] = [
  { pfn: F + 10, flags: LRU, mapping: FILE }, // cache
  { pfn: F + 11, flags: LRU | PRIVATE, mapping: FILE }, // cache with private
  { pfn: F + 12, flags: SWAPCACHE | SWAPBACKED }, // swap cache counts as cache
  { pfn: F + 13, flags: SWAPCACHE }, // swapcache without swapbacked: kept
  { pfn: F + 14, flags: LRU, mapping: ANON }, // anon on the LRU: user, not cache
  { pfn: F + 15, mapping: ANON }, // user
  // An anon compound of order 2: the head decides for the 4 pages.
  { pfn: F + 16, flags: HEAD, mapping: ANON },
  { pfn: F + 17, compoundHead: tail(F + 16), compoundOrder: 2 },
  { pfn: F + 18, compoundHead: tail(F + 16) },
  { pfn: F + 19, compoundHead: tail(F + 16) },
  // A hugetlb compound of order 3 (compound_dtor HUGETLB_PAGE_DTOR = 2 in the first tail): user.
  { pfn: F + 24, flags: HEAD },
  { pfn: F + 25, compoundHead: tail(F + 24), compoundOrder: 3, compoundDtor: 2 },
  // A free buddy block of order 4: 16 pages.
  { pfn: F + 32, mapcount: -129, private: 4n },
  { pfn: F + 48, flags: SLAB, mapcount: -129 }, // slab wins over the buddy value: kept
  { pfn: F + 49, mapcount: -129, private: 11n }, // order >= LENGTH(zone.free_area): kept
  { pfn: F + 50, mapcount: -257 }, // offline
  { pfn: F + 51, flags: HWPOISON }, // hwpoison
  // A page-cache compound (large folio) of order 2.
  { pfn: F + 56, flags: HEAD | LRU, mapping: FILE },
  { pfn: F + 57, compoundHead: tail(F + 56), compoundOrder: 2 },
  { pfn: F + 58, compoundHead: tail(F + 56) },
  { pfn: F + 59, compoundHead: tail(F + 56) },
  // A head whose order (3) is not aligned to its pfn: treated as order 0; its tail is kept.
  { pfn: F + 60, flags: HEAD | LRU, mapping: FILE },
  { pfn: F + 61, compoundHead: tail(F + 60), compoundOrder: 3 },
];
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => F + a + i);
/** The excluded-pfn bitmap (bit pfn & 7 of byte pfn >> 3) of a set of pfns. */
const bitmapOf = (pfns: Set<number>) => {
  const b = new Uint8Array((Math.max(...pfns) >> 3) + 1);
  for (const p of pfns) b[p >> 3]! |= 1 << (p & 7);
  return b;
};
const CACHE = [F + 10, F + 12, ...range(56, 61)];
const USER = [F + 14, F + 15, ...range(16, 20), ...range(24, 32)];
const FREE = range(32, 48);
const ALWAYS = [F + 50, F + 51];

function synth(opts: { release?: string; hwpoison?: boolean; l5?: boolean; drop?: string } = {}) {
  const mem = new SynthMemory();
  let keys = writeMemMap(mem, PAGES, opts.l5);
  if (opts.hwpoison !== false) keys += 'NUMBER(PG_hwpoison)=23\n';
  if (opts.drop) keys = keys.replace(new RegExp(`^${opts.drop.replace(/[()]/g, '\\$&')}=.*\\n`, 'm'), '');
  // Content: every page not zero, so the writer's zero-page rule does not hide a filtering mistake.
  for (let p = 0; p < MEM_SIZE / PS; p++) {
    const o = p * PS + PS - 8;
    if (mem.bytes.subarray(p * PS, p * PS + PS).every((b) => b === 0))
      mem.view.setUint32(o, 0xc0de0000 + p, true);
  }
  const info = `OSRELEASE=${opts.release ?? '6.1.0-test'}\nPAGESIZE=4096\n${keys}`;
  return { mem, elf: buildVmcore({ vmcoreinfo: info, mem }) };
}

function excludedPfns(elf: Uint8Array, level: number) {
  const vm = openElfVmcore(bytesReader(elf));
  const f = planFilter(vm, new PhysMemory(vm, PS), level);
  const out: number[] = [];
  for (let p = 0; p < F + MEM_SIZE / PS; p++) {
    if (f.exclusion && f.exclusion.excluded[p >> 3]! & (1 << (p & 7))) out.push(p);
  }
  return { f, out };
}
const sorted = (...a: number[][]) => [...new Set(a.flat())].sort((x, y) => x - y);

describe('page tables: x86_64 walk from init_top_pgt', () => {
  for (const l5 of [false, true]) {
    it(`${l5 ? 5 : 4}-level: 1 GiB direct map, 2 MiB text, 4 KiB vmemmap, holes`, () => {
      const { mem, elf } = synth({ l5 });
      const vm = openElfVmcore(bytesReader(elf));
      const pt = new X86_64PageTables(vm.vmcoreinfo, elfPhysSource(vm));
      assert.equal(pt.levels, l5 ? 5 : 4);
      assert.deepEqual(pt.translate(PAGE_OFFSET + 0x1234_5678n), {
        paddr: 0x1234_5678n,
        span: 0x4000_0000 - 0x1234_5678,
      });
      const text = START_KERNEL_MAP + PHYS_START + 0x1_2345n;
      assert.deepEqual(pt.translate(text), { paddr: PHYS_START + 0x1_2345n, span: 0x20_0000 - 0x1_2345 });
      const v = pt.translate(VMEMMAP + BigInt(F * 64) + 0x10n);
      assert.equal(v?.span, PS - 0x10);
      assert.equal(pt.translate(VMEMMAP), undefined, 'vmemmap of pfn 0 is not mapped');
      assert.equal(pt.translate(0xffff_c900_0000_0000n), undefined, 'vmalloc is not mapped');
      // The struct pages read through vmemmap equal the bytes the builder wrote, across 4 KiB pages.
      const got = pt.read(VMEMMAP + BigInt(F * 64), (MEM_SIZE / PS) * 64);
      const at = mem.off(PAGE_OFFSET + v!.paddr - 0x10n);
      assert.deepEqual(got, mem.bytes.subarray(at, at + (MEM_SIZE / PS) * 64));
      assert.throws(() => pt.read(VMEMMAP, 64), /not mapped/);
    });
  }

  it('takes the top table from init_top_pgt with a negative phys_base, mod 2^64', () => {
    const { elf } = synth();
    const vm = openElfVmcore(bytesReader(elf));
    const info = vm.vmcoreinfo!;
    const top = info.symbols['init_top_pgt']!;
    // Same physical table, described as symbol 16 MiB higher and phys_base -16 MiB.
    info.symbols['init_top_pgt'] = top + 0x100_0000n;
    info.numbers['phys_base'] = -0x100_0000n;
    assert.equal(new X86_64PageTables(vm.vmcoreinfo, elfPhysSource(vm)).top, top - START_KERNEL_MAP);
  });
});

describe('mem_section: SPARSEMEM_EXTREME', () => {
  it('finds section 0 present with the vmemmap coded mem_map', () => {
    const { elf } = synth();
    const vm = openElfVmcore(bytesReader(elf));
    assert.deepEqual(sparseLayout(vm.vmcoreinfo!, PS), {
      pfnsPerSection: 32768,
      sectionsPerRoot: 256,
      extreme: true,
    });
    const s = memMapSections(
      vm.vmcoreinfo!,
      new X86_64PageTables(vm.vmcoreinfo, elfPhysSource(vm)),
      F + MEM_SIZE / PS,
      PS,
    );
    assert.deepEqual(s, [{ nr: 0, pfnStart: 0, pfnEnd: F + MEM_SIZE / PS, memMap: VMEMMAP }]);
  });
});

describe('dump levels: the exact pfns makedumpfile would drop', () => {
  const { elf } = synth();
  const cases: [number, number[]][] = [
    [0, ALWAYS],
    [1, ALWAYS],
    [2, sorted(CACHE, ALWAYS)],
    [4, sorted(CACHE, [F + 11], ALWAYS)],
    [8, sorted(USER, ALWAYS)],
    [16, sorted(FREE, ALWAYS)],
    [17, sorted(FREE, ALWAYS)],
    [31, sorted(CACHE, [F + 11], USER, FREE, ALWAYS)],
  ];
  for (const [level, want] of cases) {
    it(`-d ${level}`, () => {
      const { f, out } = excludedPfns(elf, level);
      assert.equal(f.level, level);
      assert.deepEqual(f.warnings, []);
      assert.deepEqual(out, want);
    });
  }

  it('counts pages per class at -d 31', () => {
    const { f } = excludedPfns(elf, 31);
    assert.deepEqual(f.exclusion?.counts, {
      cache: 7,
      cachePrivate: 1,
      user: 14,
      free: 16,
      hwpoison: 1,
      offline: 1,
    });
  });

  it('without PG_hwpoison, levels 0 and 1 read no struct page (as makedumpfile)', () => {
    const { elf } = synth({ hwpoison: false });
    assert.equal(excludedPfns(elf, 1).f.exclusion, undefined);
    assert.deepEqual(excludedPfns(elf, 16).out, sorted(FREE, [F + 50]));
  });
});

describe('dump levels: fallback on kernels not verified or keys missing', () => {
  it('a kernel not in the table gets level 17 (free only), with a warning', () => {
    const { elf } = synth({ release: '6.6.0-test' });
    const { f, out } = excludedPfns(elf, 31);
    assert.equal(f.level, 17);
    assert.equal(f.verifiedKernel, undefined);
    assert.match(f.warnings.join('\n'), /6\.6\.0-test is not in the verified table \(6\.1, 6\.12\)/);
    assert.deepEqual(out, sorted(FREE, ALWAYS));
  });

  it('no PAGE_BUDDY_MAPCOUNT_VALUE on an unverified kernel: level 1', () => {
    const { elf } = synth({ release: '6.6.0-test', drop: 'NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)' });
    const { f, out } = excludedPfns(elf, 31);
    assert.equal(f.level, 1);
    assert.deepEqual(out, ALWAYS);
  });

  for (const key of [
    'SYMBOL(mem_section)',
    'SYMBOL(init_top_pgt)',
    'SIZE(page)',
    'NUMBER(MAX_PHYSMEM_BITS)',
  ]) {
    it(`no ${key}: level 1, nothing read, a warning names the key`, () => {
      const { elf } = synth({ drop: key });
      const { f, out } = excludedPfns(elf, 31);
      assert.equal(f.level, 1);
      assert.deepEqual(out, []);
      assert.match(f.warnings.join('\n'), new RegExp(key.replace(/[()]/g, '\\$&')));
    });
  }

  it('unreadable page tables: level 1 and a warning, not a failed dump', () => {
    const { elf } = synth();
    const vm = openElfVmcore(bytesReader(elf));
    vm.vmcoreinfo!.symbols['init_top_pgt'] = START_KERNEL_MAP + 0x4000_0000n;
    const f = planFilter(vm, new PhysMemory(vm, PS), 31);
    assert.equal(f.level, 1);
    assert.match(f.warnings.join('\n'), /struct pages could not be read/);
  });

  it('planLevel without VMCOREINFO or on another architecture keeps only zero pages', () => {
    assert.equal(planLevel(undefined, 31, true).applied, 1);
    assert.equal(planLevel(parseVmcoreinfo('OSRELEASE=6.1.0\n'), 31, false).applied, 1);
  });
});

describe('vmcore save -d 31 on the synthetic dump', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-filter-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { mem, elf } = synth();
  const dropped = new Set(sorted(CACHE, [F + 11], USER, FREE, ALWAYS));

  it('bitmap 2 lacks exactly the excluded pfns; every kept page reads back; header says 31', () => {
    const vm = openElfVmcore(bytesReader(elf));
    const dest = join(dir, 'd31.kdump');
    const sink = openFileSink(dest);
    const s = writeKdumpCompressed(vm, sink, { level: 31, compression: 'zlib', chunk: 8 * PS });
    sink.commit();
    assert.equal(s.level, 31);
    assert.equal(s.dumpablePages, MEM_SIZE / PS - dropped.size);
    const r = openKdumpFile(openFileReader(dest));
    assert.equal(r.sub.dump_level, 31);
    const seen: number[] = [];
    for (const p of r.pages()) {
      seen.push(p.pfn);
      const o = (p.pfn - F) * PS;
      assert.ok(Buffer.from(p.data).equals(mem.bytes.subarray(o, o + PS)), `page ${p.pfn}`);
    }
    assert.deepEqual(
      seen,
      range(0, MEM_SIZE / PS).filter((p) => !dropped.has(p)),
    );
    assert.equal(r.countBits(1), MEM_SIZE / PS);
  });

  it('the CLI warns and records 17 for an unverified kernel', async () => {
    const { elf: e } = synth({ release: '6.6.0-test' });
    const src = join(dir, 'vmcore-612');
    const dest = join(dir, 'd17.kdump');
    writeFileSync(src, e);
    const io = captureIo();
    assert.equal(await main(['vmcore', 'save', '-d', '31', '-c', '--json', src, dest], { io }), 0, io.err);
    assert.match(io.err, /applying level 17 instead of 31; the header records 17/);
    assert.equal(KdumpSubHeader.decode(new Uint8Array(readFileSync(dest)), PS).dump_level, 17);
  });
});

describe('vmcore save -E -d: filtered ELF as makedumpfile lays it out', () => {
  it('splits a PT_LOAD at >= 256 excluded pages; shorter runs stay data; a tail stays in p_memsz only', () => {
    const seg = {
      index: 1,
      paddr: 0x10_0000n,
      vaddr: 0xffff_8880_0010_0000n,
      offset: 0x2000n,
      filesz: 0n,
      memsz: 0n,
    };
    seg.filesz = seg.memsz = BigInt(1000 * PS);
    const base = 0x100;
    const out = new Set([...range(10, 20), ...range(300, 600), ...range(900, 1000)].map((p) => p - F + base));
    const pieces = split(seg, PS, bitmapOf(out));
    assert.deepEqual(
      pieces.map((p) => [p.paddr, p.memsz / PS, p.filesz / PS]),
      [
        [0x10_0000n, 600, 300],
        [0x10_0000n + BigInt(600 * PS), 400, 300],
      ],
    );
    const run255 = new Set(range(10, 265).map((p) => p - F + base));
    assert.equal(split(seg, PS, bitmapOf(run255)).length, 1, '255 pages do not split');
    // A segment starting and ending half way into a page: the partial pages count as pages, and a run
    // of 300 excluded pfns (from a bitmap byte boundary) splits as anywhere else.
    const half = {
      ...seg,
      paddr: BigInt(0x100 * PS + PS / 2),
      filesz: BigInt(600 * PS),
      memsz: BigInt(600 * PS),
    };
    const gap = new Set(Array.from({ length: 300 }, (_, i) => 0x108 + i));
    assert.deepEqual(
      split(half, PS, bitmapOf(gap)).map((p) => [p.paddr, p.memsz, p.filesz]),
      [
        [BigInt(0x100 * PS + PS / 2), PS / 2 + 307 * PS, PS / 2 + 7 * PS],
        [BigInt(0x234 * PS), 292 * PS + PS / 2, 292 * PS + PS / 2],
      ],
    );
  });

  it('-E -d 31 on the synthetic dump: PT_NOTE first, notes verbatim, loads keep their bytes and p_vaddr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-filter-elf-'));
    try {
      const { elf } = synth();
      const src = join(dir, 'vmcore');
      const dest = join(dir, 'filtered.elf');
      writeFileSync(src, elf);
      const io = captureIo();
      assert.equal(await main(['vmcore', 'save', '-E', '-d', '31', '--json', src, dest], { io }), 0, io.err);
      const r = JSON.parse(io.out.trim().split('\n').at(-1)!) as {
        level: number;
        format: string;
        loads: number;
      };
      assert.deepEqual([r.format, r.level, r.loads], ['elf', 31, 2]);
      const a = openElfVmcore(bytesReader(elf));
      const b = openElfVmcore(bytesReader(new Uint8Array(readFileSync(dest))));
      assert.equal(b.phdrs[0]!.p_type, 4, 'PT_NOTE first');
      assert.equal(b.vmcoreinfoRaw, a.vmcoreinfoRaw);
      // The text PT_LOAD covers pfns F..F+15; F+14 and F+15 (user pages) end it, so they stay in
      // p_memsz only. The RAM PT_LOAD ends with a kept page: unchanged.
      const text = BigInt(TEXT_SIZE);
      assert.deepEqual(
        b.loads.map((l) => [l.paddr, l.vaddr, l.memsz, l.filesz]),
        [
          [PHYS_START, START_KERNEL_MAP + PHYS_START, text, text - 2n * BigInt(PS)],
          [PHYS_START, PAGE_OFFSET + PHYS_START, BigInt(MEM_SIZE), BigInt(MEM_SIZE)],
        ],
      );
      for (const [x, y] of a.loads.map((l, i) => [l, b.loads[i]!] as const)) {
        const n = Number(y.filesz);
        assert.ok(Buffer.from(a.reader.read(Number(x.offset), n)).equals(b.reader.read(Number(y.offset), n)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
