import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LayoutError } from '../../../src/errors.js';
import { KEXEC_SEGMENT_MAX, validateSegments } from '../../../src/kexec/memory/segments.js';
import { range } from '../../../src/range.js';
import type { KexecSegment } from '../../../src/sys/types.js';

const seg = (mem: number, memsz: number, bufsz = 0): KexecSegment => ({
  buf: new Uint8Array(bufsz),
  mem: BigInt(mem),
  memsz: BigInt(memsz),
});

describe('validateSegments (sanity_check_segment_list)', () => {
  it('accepts aligned, disjoint segments', () => {
    validateSegments([seg(0x1000, 0x1000, 0x1000), seg(0x2000, 0x2000, 5)]);
  });
  const bad: Array<[string, KexecSegment[], RegExp]> = [
    ['unaligned mem', [seg(0x1800, 0x1000)], /page aligned/],
    ['unaligned memsz', [seg(0x1000, 0x1800)], /page aligned/],
    ['bufsz > memsz', [seg(0x1000, 0x1000, 0x1001)], /bufsz exceeds memsz/],
    ['overlap', [seg(0x1000, 0x2000), seg(0x2000, 0x1000)], /segment 1 .* overlaps segment 0/],
    [
      'too many',
      Array.from({ length: KEXEC_SEGMENT_MAX + 1 }, (_, i) => seg(i * 0x1000, 0x1000)),
      /17 segments; kexec_load takes at most 16/,
    ],
  ];
  for (const [name, segs, re] of bad) {
    it(`refuses ${name}`, () =>
      assert.throws(
        () => validateSegments(segs),
        (e: unknown) => e instanceof LayoutError && re.test(e.message),
      ));
  }
  it('with a crash region, refuses segments outside it', () => {
    const crash = [range(0x70000000n, 0x78000000n)];
    validateSegments([seg(0x70000000, 0x1000)], { within: crash });
    assert.throws(
      () => validateSegments([seg(0x6ffff000, 0x2000)], { within: crash }),
      /outside the crash kernel region/,
    );
  });
  it('with the RAM size, refuses more than half of it', () => {
    validateSegments([seg(0, 0x4000)], { totalRam: 0x8000n });
    assert.throws(() => validateSegments([seg(0, 0x5000)], { totalRam: 0x8000n }), /more than half/);
  });
});
