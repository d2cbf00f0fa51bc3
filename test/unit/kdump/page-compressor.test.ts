import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import { StateError } from '../../../src/errors.js';
import { zstdCodec } from '../../../src/formats/compress/zstd.js';
import { lzo1xDecompress } from '../../../src/kdump/compressed/lzo.js';
import { openPageCompressor } from '../../../src/kdump/save/page-compressor.js';
import { detectLiblzo2As, lzo1xWorstCase, openLiblzo2 } from '../../../src/sys/liblzo2.js';

const PAGE = 4096;

/** Pages of different kinds in one buffer: text, a repeating pattern, sparse bytes, random, zero. */
function samplePages(): Buffer {
  const text = Buffer.from('Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) '.repeat(80));
  const pattern = Buffer.alloc(PAGE);
  for (let i = 0; i < PAGE; i++) pattern[i] = (i * 7) & 0x3f;
  const sparse = Buffer.alloc(PAGE);
  for (let i = 0; i < PAGE; i += 97) sparse[i] = i & 0xff;
  const half = Buffer.alloc(PAGE);
  randomBytes(PAGE / 2).copy(half, 0);
  return Buffer.concat([
    text.subarray(0, PAGE),
    pattern,
    sparse,
    randomBytes(PAGE),
    half,
    Buffer.alloc(PAGE),
  ]);
}

const reference: Record<'zlib' | 'zstd', (p: Buffer) => Buffer> = {
  zlib: (p) => deflateSync(p, { level: constants.Z_BEST_SPEED }),
  zstd: (p) => Buffer.from(zstdCodec().compress(p, 1)),
};
const decompress: Record<'zlib' | 'zstd', (b: Uint8Array) => Buffer> = {
  zlib: (b) => inflateSync(b),
  zstd: (b) => Buffer.from(zstdCodec().decompress(b, 1 << 20)),
};

describe('pageCompressor: one reused context', () => {
  for (const kind of ['zlib', 'zstd'] as const) {
    it(`${kind}: every page's bytes equal the one-shot call's, over many reuses`, () => {
      const pages = samplePages();
      const n = pages.byteLength / PAGE;
      const c = openPageCompressor(kind, PAGE)!;
      const out = Buffer.alloc(c.bound + 100);
      try {
        // Several rounds, so a context that kept state from an earlier page would show.
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < n; i++) {
            const page = pages.subarray(i * PAGE, (i + 1) * PAGE);
            const want = reference[kind](page);
            const got = c.compressInto(pages, i * PAGE, out, 100);
            if (want.byteLength >= PAGE) {
              assert.equal(got, 0, `page ${i}: not smaller, so stored raw`);
              continue;
            }
            assert.equal(got, want.byteLength, `page ${i} length`);
            assert.ok(out.subarray(100, 100 + got).equals(want), `page ${i} bytes`);
            assert.ok(decompress[kind](out.subarray(100, 100 + got)).equals(page), `page ${i} round trip`);
          }
        }
      } finally {
        c.close();
      }
    });
  }

  it('random pages do not compress (0), and zlib output is a complete zlib stream (header 78 01)', () => {
    const c = openPageCompressor('zlib', PAGE)!;
    const out = Buffer.alloc(c.bound);
    assert.equal(c.compressInto(randomBytes(PAGE), 0, out, 0), 0);
    const n = c.compressInto(Buffer.alloc(PAGE, 0x41), 0, out, 0);
    assert.ok(n > 0 && n < 64);
    // RFC 1950: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (level 1 = FLEVEL 0, FCHECK makes it % 31 = 0).
    assert.deepEqual([out[0], out[1]], [0x78, 0x01]);
    c.close();
  });

  it('refuses an output window smaller than its bound', () => {
    const c = openPageCompressor('zstd', PAGE)!;
    assert.throws(() => c.compressInto(Buffer.alloc(PAGE), 0, Buffer.alloc(PAGE), 0), RangeError);
    c.close();
  });
});

describe('pageCompressor: LZO', () => {
  it("uses the system's liblzo2: the bytes lzo1x_1_compress gives, decoded by our JS decoder", () => {
    const pages = samplePages();
    const n = pages.byteLength / PAGE;
    const lib = openLiblzo2();
    const c = openPageCompressor('lzo', PAGE)!;
    assert.equal(c.engine, `liblzo2 ${lib.version}`);
    const want = new Uint8Array(lzo1xWorstCase(PAGE));
    const out = Buffer.alloc(c.bound + 200);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < n; i++) {
        const page = pages.subarray(i * PAGE, (i + 1) * PAGE);
        const wantLen = lib.compress(page, want);
        const got = c.compressInto(pages, i * PAGE, out, 100 + i);
        if (wantLen >= PAGE) {
          assert.equal(got, 0, `page ${i}: not smaller, so stored raw`);
          continue;
        }
        assert.equal(got, wantLen, `page ${i} length`);
        assert.ok(out.subarray(100 + i, 100 + i + got).equals(want.subarray(0, wantLen)), `page ${i} bytes`);
        assert.ok(Buffer.from(lzo1xDecompress(out.subarray(100 + i, 100 + i + got), PAGE)).equals(page));
      }
    }
    // A different source buffer at the same offsets must not reuse the first one's page views.
    const copy = Buffer.from(pages.subarray(0, 2 * PAGE)).reverse();
    const m = c.compressInto(copy, PAGE, out, 0);
    assert.ok(Buffer.from(lzo1xDecompress(out.subarray(0, m), PAGE)).equals(copy.subarray(PAGE)));
    c.close();
  });

  it('without liblzo2: a StateError naming the feature and the install, no JS fallback', () => {
    detectLiblzo2As('liblzo2-not-installed.so.9');
    try {
      assert.throws(
        () => openPageCompressor('lzo', PAGE),
        (e: unknown) =>
          e instanceof StateError &&
          /^LZO page compression needs liblzo2: dlopen\("liblzo2-not-installed\.so\.9"\) failed/.test(
            e.message,
          ) &&
          /apt-get install liblzo2-2/.test(e.hint ?? ''),
      );
    } finally {
      detectLiblzo2As();
    }
    assert.equal(openPageCompressor('lzo', PAGE)?.engine, `liblzo2 ${openLiblzo2().version}`);
  });
});
