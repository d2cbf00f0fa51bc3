import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LayoutError } from '../../../src/errors.js';
import { freeRanges, locateHole, SegmentPlanner } from '../../../src/kexec/memory/hole.js';
import { readMemoryMap } from '../../../src/kexec/memory/memmap.js';
import { q35Sys } from './q35-fixture.js';

const map = readMemoryMap(q35Sys());
const free = freeRanges(map.ranges);

describe('locateHole on the q35 2 GiB map', () => {
  const cases: Array<[string, Parameters<typeof locateHole>[1], bigint]> = [
    ['lowest page', { size: 0x1000n }, 0x1000n],
    ['lowest page at or above 0x3000', { size: 0x1000n, min: 0x3000n }, 0x3000n],
    ['too big for low memory goes to 1 MiB', { size: 0x100000n }, 0x100000n],
    ['2 MiB aligned above 16 MiB', { size: 0x400000n, align: 0x200000n, min: 0x1000001n }, 0x1200000n],
    ['highest page', { size: 0x1000n, topDown: true }, 0x7ffdf000n],
    ['highest 4 MiB', { size: 0x400000n, topDown: true }, 0x7fbe0000n],
    ['highest 2 MiB aligned', { size: 0x400000n, align: 0x200000n, topDown: true }, 0x7fa00000n],
    ['highest below a max', { size: 0x1000n, max: 0x40000000n, topDown: true }, 0x3ffff000n],
    ['highest below 1 MiB', { size: 0x2000n, max: 0x100000n, topDown: true }, 0x9d000n],
    ['size rounds up to a page', { size: 0x1001n, topDown: true }, 0x7ffde000n],
  ];
  for (const [name, req, want] of cases) {
    it(name, () => assert.equal(locateHole(free, req), want));
  }
});

describe('what is excluded', () => {
  it('the crash kernel region (normal loads)', () => {
    const f = freeRanges(map.ranges, { exclude: map.crash });
    assert.equal(locateHole(f, { size: 0x10000000n, topDown: true, max: 0x78000000n }), 0x60000000n);
  });
  it('--mem-min and --mem-max (inclusive)', () => {
    const f = freeRanges(map.ranges, { memMin: 0x2000000n, memMax: 0x2ffffffn });
    assert.deepEqual(f, [{ start: 0x2000000n, end: 0x3000000n }]);
    assert.equal(locateHole(f, { size: 0x1000n, topDown: true }), 0x2fff000n);
  });
  it('segments already placed', () => {
    const p = new SegmentPlanner(map.ranges);
    assert.equal(p.add(new Uint8Array(10), 0x1000n, { topDown: true }), 0x7ffdf000n);
    assert.equal(p.add(new Uint8Array(10), 0x1000n, { topDown: true }), 0x7ffde000n);
    assert.equal(p.add(new Uint8Array(0x1800), 0n, { min: 0x100000n }), 0x100000n);
    assert.deepEqual(
      p.segments.map((s) => [s.mem, s.memsz]),
      [
        [0x7ffdf000n, 0x1000n],
        [0x7ffde000n, 0x1000n],
        [0x100000n, 0x2000n],
      ],
    );
  });
  it('addAt refuses a taken address', () => {
    const p = new SegmentPlanner(map.ranges);
    p.addAt(new Uint8Array(1), 0x1000n, 0x1000000n);
    assert.throws(() => p.addAt(new Uint8Array(1), 0x1000n, 0x1000000n), LayoutError);
  });
});

describe('when nothing fits', () => {
  it('names the size and the free ranges', () => {
    const f = freeRanges(map.ranges, { memMax: 0xfffffn });
    assert.throws(
      () => locateHole(f, { size: 0x200000n }),
      (e: unknown) =>
        e instanceof LayoutError &&
        e.code === 'E_LAYOUT' &&
        e.message.includes('0x200000 bytes') &&
        e.message.includes('free ranges there: 0x400-0x9fbff'),
    );
  });
  it('says none when the window is empty', () => {
    assert.throws(
      () => locateHole(free, { size: 0x1000n, min: 0x80000000n, max: 0x90000000n }),
      /ranges there: none/,
    );
  });
  it('rejects an alignment that is not a power of two', () => {
    assert.throws(() => locateHole(free, { size: 0x1000n, align: 0x3000n }), LayoutError);
  });
});
