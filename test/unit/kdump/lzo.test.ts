import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../../src/errors.js';
import { lzo1xDecompress } from '../../../src/kdump/compressed/lzo.js';
import { lzo1xWorstCase, openLiblzo2 } from '../../../src/sys/liblzo2.js';

// Our decoder reads what liblzo2's lzo1x_1_compress writes (the encoder `vmcore save -l` and
// makedumpfile -l use; the unit setup installs liblzo2-2, scripts/fetch-fixtures.sh).
const lib = openLiblzo2();
const enc = (s: string) => new TextEncoder().encode(s);
const lzo1xCompress = (data: Uint8Array) => {
  const out = new Uint8Array(lzo1xWorstCase(data.byteLength));
  return out.subarray(0, lib.compress(data, out));
};
const roundtrip = (data: Uint8Array) => {
  const packed = lzo1xCompress(data);
  assert.deepEqual(lzo1xDecompress(packed, data.byteLength), data);
  return packed;
};

/** Data with repeats at chosen distances, so every match opcode class is produced. */
function repeats(seed: number, size: number, distance: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // a quarter of the bytes copy the byte `distance` back, in runs
    out[i] = i >= distance && (x & 0x300) === 0 ? out[i - distance]! : x & 0xff;
  }
  return out;
}

describe('LZO1X decoding (lzo.rst format)', () => {
  it('decodes hand-assembled streams by the documented opcodes', () => {
    // first byte 17+4: four literals (state 4); M2 01LDDDSS len 4 dist 4: 0x60|(3<<2), H=0; end 0x11 0 0
    assert.deepEqual(
      lzo1xDecompress(Uint8Array.of(21, 0x61, 0x62, 0x63, 0x64, 0x6c, 0x00, 0x11, 0, 0), 8),
      enc('abcdabcd'),
    );
    // first byte 17+1: one literal (state 1); 0000DDSS after 1..3 literals: 2 bytes from distance 1
    assert.deepEqual(lzo1xDecompress(Uint8Array.of(18, 0x78, 0x00, 0x00, 0x11, 0, 0), 3), enc('xxx'));
    // 0000LLLL in state 0 with L=0: 18 + extension byte literals; then M3 001LLLLL len 2+5, dist 1+1,
    // with S=2 trailing literals in the low bits of the LE16
    const lit = enc('0123456789abcdefghij'); // 20 = 18 + 2
    const stream = Uint8Array.of(0x00, 0x02, ...lit, 0x25, (1 << 2) | 2, 0x00, 0x4b, 0x4c, 0x11, 0, 0);
    assert.deepEqual(lzo1xDecompress(stream, 29), enc('0123456789abcdefghijijijijiKL'));
    // M4 0001HLLL: distance 16384 + D; length 2 + 1
    const big = repeats(7, 16390, 1 << 20);
    const m4 = Uint8Array.of(...lzo1xCompress(big).subarray(0, -3), 0x11, 5 << 2, 0x00, 0x11, 0, 0);
    const out = lzo1xDecompress(m4, 16393);
    assert.deepEqual(out.subarray(16390), big.subarray(16390 - 16389, 16390 - 16389 + 3));
  });

  it('rejects corrupt streams: bad distance, short or long output, trailing bytes, truncation', () => {
    const ok = lzo1xCompress(enc('hello hello hello hello'));
    assert.throws(() => lzo1xDecompress(ok, 22), FormatError);
    assert.throws(() => lzo1xDecompress(ok, 24), FormatError);
    assert.throws(() => lzo1xDecompress(Uint8Array.of(...ok, 0), 23), FormatError);
    assert.throws(() => lzo1xDecompress(ok.subarray(0, ok.length - 1), 23), FormatError);
    assert.throws(() => lzo1xDecompress(Uint8Array.of(18, 0x78, 0x6c, 0x01, 0x11, 0, 0), 6), /distance/);
    assert.throws(() => lzo1xDecompress(new Uint8Array(0), 0), FormatError);
  });

  it("decodes liblzo2's pages: zero, text, noise, and repeats at every distance class", () => {
    const page = 4096;
    assert.ok(roundtrip(new Uint8Array(page)).byteLength < 64, 'a zero page packs to a few bytes');
    const text = enc('Linux version 6.1.0 (debian-kernel@lists.debian.org) '.repeat(80)).subarray(0, page);
    assert.ok(roundtrip(text).byteLength < 400);
    const noise = repeats(1, page, 1 << 30);
    assert.ok(roundtrip(noise).byteLength > page, 'incompressible data only grows by the headers');
    for (const d of [1, 3, 8, 2048, 2049, 16384, 16385, 40000]) roundtrip(repeats(d, 48 * 1024, d));
    roundtrip(new Uint8Array(0));
    for (let n = 1; n < 40; n++) roundtrip(repeats(n, n, 2));
  });

  it("decodes liblzo2's pages of one repeated byte, and of one byte differing anywhere", () => {
    for (const b of [0x00, 0x01, 0x7f, 0x80, 0xaa, 0xff]) roundtrip(new Uint8Array(4096).fill(b));
    for (const n of [9, 10, 11, 12, 13, 4095, 4097]) roundtrip(new Uint8Array(n).fill(0x5a));
    for (const at of [0, 1, 3, 4, 2047, 4092, 4093, 4095]) {
      const page = new Uint8Array(4096).fill(0xff);
      page[at] = 0xfe;
      roundtrip(page);
    }
  });

  it('fuzz: any input liblzo2 packs decodes back; random streams never decode out of bounds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 9000 }),
          fc
            .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 400 }))
            .map(([b, n]) => Uint8Array.from({ length: b.length * n }, (_, i) => b[i % b.length]!)),
          fc
            .tuple(fc.integer(), fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 1, max: 50000 }))
            .map(([s, n, d]) => repeats(s, n, d)),
        ),
        (data) => {
          roundtrip(data);
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 5000 }), (junk, n) => {
        try {
          assert.equal(lzo1xDecompress(junk, n).byteLength, n);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
