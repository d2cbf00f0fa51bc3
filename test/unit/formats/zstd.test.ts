import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { StateError } from '../../../src/errors.js';
import { libzstdCodec, nodeZstdCodec, zstdCodec } from '../../../src/formats/compress/zstd.js';

/** zstd.h `ZSTD_MAGICNUMBER 0xFD2FB528`, little-endian at the start of every frame. */
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** Node.js has zstd in node:zlib from 22.15 (and 23.8) on. */
function nodeHasZstd(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15);
}

function sample(n: number): Buffer {
  const text = Buffer.from('kexec-ts zstd sample line 0123456789\n'.repeat(Math.ceil(n / 37) + 1));
  const out = Buffer.alloc(n);
  for (let at = 0; at < n; at += 8192) {
    const src = (at / 8192) % 2 === 0 ? text : randomBytes(8192);
    src.copy(out, at, 0, Math.min(8192, n - at));
  }
  return out;
}

describe('zstd codecs', () => {
  it('node:zlib has zstd exactly from Node.js 22.15 on, and zstdCodec() prefers it', () => {
    assert.equal(nodeZstdCodec() !== undefined, nodeHasZstd());
    assert.equal(zstdCodec().engine, nodeHasZstd() ? 'node:zlib' : libzstdCodec().engine);
  });

  it('libzstd loads (Debian package libzstd1) and names its version', () => {
    assert.match(libzstdCodec().engine, /^libzstd 1\.\d+\.\d+$/);
  });

  it('libzstd: frames of many sizes decode to their input and start with the zstd magic', () => {
    const z = libzstdCodec();
    for (const n of [0, 1, 63, 64, 65, 4096, 131_073, 1_500_000]) {
      const src = sample(n);
      const frame = z.compress(src, 3);
      assert.deepEqual([...frame.subarray(0, 4)], MAGIC, `${n} bytes: magic`);
      assert.ok(Buffer.from(z.decompress(frame, n)).equals(src), `${n} bytes: round trip`);
    }
  });

  it('libzstd: concatenated frames decode to the concatenation, like the zstd CLI', () => {
    const z = libzstdCodec();
    const a = sample(5000);
    const b = sample(70_000);
    const both = Buffer.concat([z.compress(a, 1), z.compress(b, 19)]);
    assert.ok(Buffer.from(z.decompress(both, a.length + b.length)).equals(Buffer.concat([a, b])));
  });

  it('libzstd: output past the cap is a RangeError with code ERR_BUFFER_TOO_LARGE, as node:zlib', () => {
    const z = libzstdCodec();
    const frame = z.compress(Buffer.alloc(1 << 20), 3);
    assert.throws(
      () => z.decompress(frame, (1 << 20) - 1),
      (e: Error) => e instanceof RangeError && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE',
    );
    assert.equal(z.decompress(frame, 1 << 20).byteLength, 1 << 20);
  });

  it('libzstd: truncated or corrupt input throws, never returns short data', () => {
    const z = libzstdCodec();
    const frame = Buffer.from(z.compress(sample(100_000), 3));
    assert.throws(() => z.decompress(frame.subarray(0, frame.length - 10), 1 << 20), StateError);
    assert.throws(() => z.decompress(Buffer.alloc(0), 1 << 20), StateError);
    const bad = Buffer.from(frame);
    bad[0] = 0; // no longer the magic
    assert.throws(() => z.decompress(bad, 1 << 20), /ZSTD_decompressStream = /);
  });

  it('libzstd: one page into a page-sized buffer; a frame holding more is refused', () => {
    const z = libzstdCodec();
    const page = sample(4096);
    assert.ok(Buffer.from(z.decompressPage(z.compress(page, 1), 4096)).equals(page));
    assert.throws(
      () => z.decompressPage(z.compress(sample(4097), 1), 4096),
      /Destination buffer is too small/,
    );
  });

  it('libzstd: a reused context (ZSTD_compressCCtx) writes the bytes of one-shot ZSTD_compress, in place', () => {
    const z = libzstdCodec();
    const c = z.compressor!(1);
    const pages = sample(6 * 4096);
    const out = Buffer.alloc(100 + z.bound!(4096));
    try {
      for (let round = 0; round < 2; round++)
        for (let i = 0; i < 6; i++) {
          const n = c.compressInto(pages, i * 4096, 4096, out, 100);
          const want = z.compress(pages.subarray(i * 4096, (i + 1) * 4096), 1);
          assert.ok(out.subarray(100, 100 + n).equals(want), `page ${i}`);
        }
      assert.throws(() => c.compressInto(new Uint8Array(64), 0, 64, out, 0), RangeError);
    } finally {
      c.close();
    }
  });

  it('libzstd: the stream (kdump build-initrd --compress zstd) is one frame of all its chunks', async () => {
    const z = libzstdCodec();
    const src = sample(600_000);
    const chunks = [src.subarray(0, 10), src.subarray(10, 300_000), src.subarray(300_000)];
    const frame = await buffer(Readable.from(chunks).pipe(z.compressStream(3)));
    assert.deepEqual([...frame.subarray(0, 4)], MAGIC);
    assert.ok(Buffer.from(z.decompress(frame, src.length)).equals(src));
    // A stream that fails downstream frees its context without throwing.
    await assert.rejects(
      pipeline(Readable.from([src]), z.compressStream(), async (s: AsyncIterable<Buffer>) => {
        for await (const _ of s) throw new Error('sink failed');
      }),
      /sink failed/,
    );
  });

  it("each engine decodes the other one's frames (where this Node has both)", () => {
    const lib = libzstdCodec();
    const node = nodeZstdCodec();
    assert.equal(node !== undefined, nodeHasZstd());
    if (!node) return;
    const src = sample(300_000);
    assert.ok(Buffer.from(node.decompress(lib.compress(src, 1), src.length)).equals(src));
    assert.ok(Buffer.from(lib.decompress(node.compress(src, 1), src.length)).equals(src));
  });

  it('a library that does not load is a StateError with an install hint', () => {
    assert.throws(
      () => libzstdCodec('libzstd-not-here.so.9'),
      (e: Error) => e instanceof StateError && /apt-get install libzstd1/.test(e.hint ?? ''),
    );
  });
});
