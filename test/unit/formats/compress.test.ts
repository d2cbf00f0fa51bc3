import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FormatError, LimitError } from '../../../src/errors.js';
import { decompress } from '../../../src/formats/compress/decompress.js';
import { detectCompression } from '../../../src/formats/compress/detect.js';
import { xzDeclaredSize } from '../../../src/formats/compress/xz-index.js';
import { zstdCompressSync } from '../../helpers/zstd.js';

const root = new URL('../../../../', import.meta.url);
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`test/fixtures/compress/${name}`, root)));
const xzEncode = (data: Uint8Array): Uint8Array =>
  (
    createRequire(import.meta.url)('@napi-rs/lzma') as { xz: { compressSync(d: Uint8Array): Uint8Array } }
  ).xz.compressSync(data);
const text = new TextEncoder().encode('kexec-ts '.repeat(1000));
const MiB = 1 << 20;

describe('detectCompression', () => {
  it('knows every whole-file magic', () => {
    const cases: [number[], string | undefined][] = [
      [[0x1f, 0x8b, 8], 'gzip'],
      [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
      [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
      [[0x04, 0x22, 0x4d, 0x18], 'lz4-frame'],
      [[0x02, 0x21, 0x4c, 0x18], 'lz4'],
      [[0x42, 0x5a, 0x68, 0x39], 'bzip2'],
      [[0x5d, 0x00, 0x00, 0x80], 'lzma'],
      [[0x89, 0x4c, 0x5a, 0x4f], 'lzo'],
      [[0x7f, 0x45, 0x4c, 0x46], undefined],
      [[0x1f], undefined],
      [[], undefined],
    ];
    for (const [magic, name] of cases)
      assert.equal(detectCompression(Uint8Array.from(magic)), name, String(magic));
  });
});

describe('decompress', () => {
  it('undoes gzip and zstd made by node:zlib', () => {
    assert.deepEqual(decompress(gzipSync(text)), new Uint8Array(text));
    assert.deepEqual(decompress(zstdCompressSync(text)), new Uint8Array(text));
  });

  it('undoes xz made by the xz CLI (committed fixtures), including two concatenated streams', () => {
    const hello = readFileSync(new URL('test/fixtures/compress/hello.txt', root));
    assert.deepEqual(Buffer.from(decompress(fixture('hello.txt.xz'))), hello);
    assert.equal(xzDeclaredSize(fixture('two-streams.txt.xz')), 2 * hello.byteLength);
    assert.deepEqual(Buffer.from(decompress(fixture('two-streams.txt.xz'))), Buffer.concat([hello, hello]));
  });

  it('undoes xz made by @napi-rs/lzma and reads its index', () => {
    const xz = xzEncode(text);
    assert.equal(xzDeclaredSize(xz), text.byteLength);
    assert.deepEqual(decompress(xz), new Uint8Array(text));
  });

  it('caps output: gzip, zstd and xz bombs raise LimitError', () => {
    const zeros = new Uint8Array(4 * MiB);
    for (const bomb of [gzipSync(zeros), zstdCompressSync(zeros), fixture('zeros-4MiB.xz')]) {
      assert.ok(bomb.byteLength < 8 * 1024);
      assert.throws(() => decompress(bomb, MiB), LimitError);
      assert.equal(decompress(bomb, 4 * MiB).byteLength, 4 * MiB);
    }
  });

  it('refuses a 513 MiB xz (76 KiB on disk) under the default 512 MiB cap, from its index alone', () => {
    const bomb = fixture('zeros-513MiB.xz');
    assert.equal(xzDeclaredSize(bomb), 513 * MiB);
    const t0 = performance.now();
    assert.throws(() => decompress(bomb), LimitError);
    assert.ok(performance.now() - t0 < 1000, 'rejected before decoding');
  });

  it('never returns different bytes for a corrupted xz: every bit-flip errors or decodes the original', () => {
    const xz = fixture('hello.txt.xz');
    const good = decompress(xz);
    for (let i = 0; i < xz.byteLength; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = xz.slice();
        bad[i] = bad[i]! ^ bit;
        try {
          assert.deepEqual(decompress(bad), good, `flip 0x${bit.toString(16)} at ${i}`);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      }
    }
  });

  it('turns corrupt or unsupported data into FormatError', () => {
    const gz = gzipSync(text);
    assert.throws(() => decompress(gz.subarray(0, gz.byteLength - 10)), FormatError);
    const xz = fixture('hello.txt.xz');
    assert.throws(() => decompress(xz.subarray(0, xz.byteLength - 1)), FormatError);
    const flipped = xz.slice();
    flipped[0x20] = flipped[0x20]! ^ 0xff;
    assert.throws(() => decompress(flipped), FormatError);
    assert.throws(() => decompress(Uint8Array.from([0x42, 0x5a, 0x68])), /bzip2 data is (corrupt|truncated)/);
    assert.throws(
      () => decompress(Uint8Array.from([0x89, 0x4c, 0x5a, 0x4f, 0, 0])),
      /lzo decompression is not supported/,
    );
    assert.throws(() => decompress(new Uint8Array(8)), FormatError);
    assert.throws(() => decompress(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2])), FormatError);
  });
});
