// The struct page classifier on 6.12 layouts: page types as whole _mapcount values in the top byte
// (PGTY_* << 24), no PG_slab, the folio order in the low byte of _flags_1 (the first tail page's flags
// word), hugetlb as a page type on the head. The VMCOREINFO keys are those of the real Debian
// 6.12.117+deb12-cloud-amd64 crash in the lab (test/lab/kdump.test.ts); the expected verdicts follow
// makedumpfile master (72c3414, bad2a7c, 5f17bdd, 9661c1d, 985e575; makedumpfile.c __exclude_unnecessary_pages).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from '../../../src/kdump/filter/exclude.js';
import { pageRules } from '../../../src/kdump/filter/rules.js';
import { parseVmcoreinfo } from '../../../src/kdump/vmcoreinfo.js';

const INFO = parseVmcoreinfo(
  [
    'OSRELEASE=6.12.117+deb12-cloud-amd64',
    'SIZE(page)=64',
    'OFFSET(page.flags)=0',
    'OFFSET(page.mapping)=24',
    'OFFSET(page.lru)=8',
    'OFFSET(page._mapcount)=48',
    'OFFSET(page.private)=40',
    'OFFSET(page.compound_head)=8',
    'LENGTH(zone.free_area)=11',
    'NUMBER(PG_lru)=5',
    'NUMBER(PG_private)=14',
    'NUMBER(PG_swapcache)=10',
    'NUMBER(PG_swapbacked)=17',
    'NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=-184549376',
    'NUMBER(PG_hwpoison)=20',
    'NUMBER(PG_head_mask)=64',
    'NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456',
    'NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=-201326592',
    'NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-251658240',
    '',
  ].join('\n'),
);
const R = pageRules(INFO);
const LRU = 1n << 5n;
const HEAD = 64n;
const FILE = 0xff11_0000_0123_4000n;
const ANON = FILE | 1n;
const SLAB = -184549376; // PGTY_slab (0xf5) << 24
const HUGETLB = -201326592; // PGTY_hugetlb (0xf4) << 24
const BUDDY = -268435456; // PGTY_buddy (0xf0) << 24
const OFFLINE = -251658240; // PGTY_offline (0xf1) << 24

interface P {
  flags?: bigint;
  mapping?: bigint;
  mapcount?: number;
  priv?: bigint;
  head?: number;
}
function view(pages: P[]): DataView {
  const dv = new DataView(new ArrayBuffer(pages.length * 64));
  pages.forEach((p, i) => {
    dv.setBigUint64(i * 64, p.flags ?? 0n, true);
    dv.setBigUint64(
      i * 64 + 8,
      p.head === undefined ? 0n : 0xffd0_0000_0000_0001n + BigInt(p.head * 64),
      true,
    );
    dv.setBigUint64(i * 64 + 24, p.mapping ?? 0n, true);
    dv.setBigUint64(i * 64 + 40, p.priv ?? 0n, true);
    dv.setInt32(i * 64 + 48, p.mapcount ?? -1, true);
  });
  return dv;
}
const at = (pages: P[], i: number, level: number, pfn = 1024 + i) =>
  classify(view(pages), i, pages.length, pfn, R, level);

describe('6.12 struct pages (page types in the top byte, folio order in _flags_1)', () => {
  it('reads the 6.12 keys: no PG_slab, no compound_order offset, the type values', () => {
    assert.equal(R.pgSlab, undefined);
    assert.equal(R.compoundOrder, undefined);
    assert.equal(R.slabMapcount, SLAB);
    assert.equal(R.hugetlbMapcount, HUGETLB);
    assert.equal(R.buddy, BUDDY);
  });

  it('a slab page whose slab.slabs (at page.mapping) is odd is not user data', () => {
    assert.equal(at([{ mapping: ANON, mapcount: SLAB }], 0, 31), undefined);
    assert.deepEqual(at([{ mapping: ANON }], 0, 31), { cls: 'user', pages: 1 });
  });

  it('buddy and offline by the exact type value; a slab value is neither', () => {
    assert.deepEqual(at([{ mapcount: BUDDY, priv: 3n }], 0, 16), { cls: 'free', pages: 8 });
    assert.equal(at([{ mapcount: BUDDY | 1, priv: 3n }], 0, 16), undefined);
    assert.deepEqual(at([{ mapcount: OFFLINE }], 0, 0), { cls: 'offline', pages: 1 });
    assert.equal(at([{ mapcount: SLAB, priv: 3n }], 0, 31), undefined);
  });

  it('a large page-cache folio: order from the low byte of the first tail page flags', () => {
    const folio: P[] = [
      { flags: HEAD | LRU, mapping: FILE },
      { flags: 0x0300n | 2n, head: 0 },
      { head: 0 },
      { head: 0 },
    ];
    assert.deepEqual(at(folio, 0, 2), { cls: 'cache', pages: 4 });
    assert.equal(at(folio, 1, 31), undefined, 'tails follow the head');
    // Misaligned to the pfn: order 0.
    assert.deepEqual(at(folio, 0, 2, 1025), { cls: 'cache', pages: 1 });
  });

  it('a hugetlb folio (page type on the head) is user data with its order', () => {
    const folio: P[] = [
      { flags: HEAD, mapcount: HUGETLB },
      { flags: 9n, head: 0 },
    ];
    assert.deepEqual(at(folio, 0, 8), { cls: 'user', pages: 512 });
    assert.equal(at(folio, 0, 7), undefined);
  });
});
