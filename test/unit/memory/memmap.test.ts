import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crashRangesFromIomem,
  memmapFromIomem,
  parseFirmwareMemmap,
  readMemoryMap,
} from '../../../src/kexec/memory/memmap.js';
import { mergeRanges, range, subtractRanges } from '../../../src/kexec/memory/ranges.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { Q35_2G_IOMEM, q35Sys } from './q35-fixture.js';

const Q35_EXPECTED = [
  { start: 0x400n, end: 0x9fc00n, type: 'ram' },
  { start: 0x9fc00n, end: 0xa0000n, type: 'reserved' },
  { start: 0xf0000n, end: 0x100000n, type: 'reserved' },
  { start: 0x100000n, end: 0x7ffe0000n, type: 'ram' },
  { start: 0x7ffe0000n, end: 0x80000000n, type: 'reserved' },
  { start: 0xb0000000n, end: 0xc0000000n, type: 'reserved' },
  { start: 0xfed1c000n, end: 0xfed20000n, type: 'reserved' },
  { start: 0xfffc0000n, end: 0x100000000n, type: 'reserved' },
];

describe('firmware memory map', () => {
  it('reads /sys/firmware/memmap of a q35 2 GiB guest (ends made exclusive, RAM below 0x400 dropped)', () => {
    const map = readMemoryMap(q35Sys());
    assert.equal(map.source, 'firmware-memmap');
    assert.deepEqual(map.ranges, Q35_EXPECTED);
    assert.deepEqual(map.crash, [{ start: 0x70000000n, end: 0x78000000n }]);
  });
  it('orders entries numerically, not as directory names sort', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) {
      files[`/sys/firmware/memmap/${i}/start`] = `0x${(i * 0x100000).toString(16)}`;
      files[`/sys/firmware/memmap/${i}/end`] = `0x${(i * 0x100000 + 0xfffff).toString(16)}`;
      files[`/sys/firmware/memmap/${i}/type`] = i % 2 ? 'Reserved' : 'System RAM';
    }
    const ranges = parseFirmwareMemmap(new FakeSys({ files }))!;
    assert.equal(ranges.length, 12);
    assert.deepEqual(
      ranges.map((r) => r.start),
      Array.from({ length: 12 }, (_, i) => BigInt(i * 0x100000)),
    );
  });
  it('is undefined without the directory', () => {
    assert.equal(parseFirmwareMemmap(new FakeSys()), undefined);
  });
  it('falls back to the top-level lines of /proc/iomem', () => {
    const map = readMemoryMap(q35Sys({ firmware: false }));
    assert.equal(map.source, 'iomem');
    // /proc/iomem shows the kernel's view: page 0 reserved, the PCI ECAM's Reserved is nested (skipped).
    assert.deepEqual(map.ranges, [
      { start: 0x0n, end: 0x1000n, type: 'reserved' },
      { start: 0x1000n, end: 0x9fc00n, type: 'ram' },
      ...Q35_EXPECTED.slice(1).filter((r) => r.start !== 0xb0000000n),
    ]);
    assert.deepEqual(memmapFromIomem(Q35_2G_IOMEM)[0], { start: 0n, end: 0x1000n, type: 'reserved' });
  });
  it('names the ACPI types and old lowercase "reserved"', () => {
    const ranges = memmapFromIomem(
      '00000000-0009ffff : System RAM\n000a0000-000fffff : reserved\n7fe00000-7fe0ffff : ACPI Tables\n7fe10000-7fe1ffff : ACPI Non-volatile Storage\n',
    );
    assert.deepEqual(
      ranges.map((r) => r.type),
      ['ram', 'reserved', 'acpi', 'nvs'],
    );
  });
  it('crash ranges come highest first and skip zeroed (non-root) lines', () => {
    const text =
      '00000000-00000000 : Crash kernel\n20000000-2fffffff : Crash kernel\n1000000000-100fffffff : Crash kernel\n';
    assert.deepEqual(crashRangesFromIomem(text), [
      { start: 0x1000000000n, end: 0x1010000000n },
      { start: 0x20000000n, end: 0x30000000n },
    ]);
  });
});

describe('range arithmetic', () => {
  it('merges overlapping and touching ranges of one type only', () => {
    assert.deepEqual(
      mergeRanges([
        { ...range(0x2000n, 0x3000n), type: 'ram' },
        { ...range(0x0n, 0x1000n), type: 'ram' },
        { ...range(0x1000n, 0x2800n), type: 'ram' },
        { ...range(0x3000n, 0x4000n), type: 'reserved' },
      ]),
      [
        { start: 0x0n, end: 0x3000n, type: 'ram' },
        { start: 0x3000n, end: 0x4000n, type: 'reserved' },
      ],
    );
  });
  it('subtracts holes, splitting ranges', () => {
    assert.deepEqual(subtractRanges([range(0n, 100n)], [range(10n, 20n), range(90n, 200n)]), [
      { start: 0n, end: 10n },
      { start: 20n, end: 90n },
    ]);
  });
});
