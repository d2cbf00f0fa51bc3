// lz4 (legacy frame, as the kernel builds it with `lz4 -l`) and bzip2 decoding. Fixtures were made
// with the lz4 and bzip2 CLIs (see docs/formats.md); the 9 MB ones span two 8 MiB lz4 blocks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../../src/errors.js';
import { decompress } from '../../../src/formats/compress/decompress.js';
import { lz4LegacyDecompress } from '../../../src/formats/compress/lz4-legacy.js';

const root = new URL('../../../../', import.meta.url);
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`test/fixtures/compress/${name}`, root)));
const hello = () => Buffer.from(fixture('hello.txt'));
/** What `yes kexec | head -c 9000000` printed. */
const kexec9 = () => Buffer.from('kexec\n'.repeat(1_500_000));

describe('lz4 legacy frame', () => {
  it('decodes a one-block file and a two-block file with overlapping matches', () => {
    assert.deepEqual(Buffer.from(decompress(fixture('hello.txt.lz4'))), hello());
    const big = decompress(fixture('kexec-9MB.txt.lz4'));
    assert.equal(big.byteLength, 9_000_000);
    assert.ok(Buffer.from(big).equals(kexec9()));
  });

  it('enforces the output cap and rejects corrupt data with FormatError', () => {
    assert.throws(() => decompress(fixture('kexec-9MB.txt.lz4'), 1 << 20), LimitError);
    const lz = fixture('hello.txt.lz4');
    assert.throws(() => lz4LegacyDecompress(lz.subarray(0, lz.byteLength - 3), 1 << 20), FormatError);
    const badOffset = lz.slice();
    badOffset[lz.byteLength - 9] = 0xff; // the match offset of the first sequence points before the output
    assert.throws(() => lz4LegacyDecompress(badOffset, 1 << 20), FormatError);
    assert.throws(
      () => lz4LegacyDecompress(Uint8Array.from([0x02, 0x21, 0x4c, 0x18, 0xff, 0xff, 0xff, 0x7f]), 1 << 20),
      FormatError,
    );
  });
});

describe('bzip2', () => {
  it('decodes one stream, two concatenated streams and a 9 MB file', () => {
    assert.deepEqual(Buffer.from(decompress(fixture('hello.txt.bz2'))), hello());
    assert.deepEqual(
      Buffer.from(decompress(fixture('two-streams.txt.bz2'))),
      Buffer.concat([hello(), hello()]),
    );
    assert.ok(Buffer.from(decompress(fixture('kexec-9MB.txt.bz2'))).equals(kexec9()));
  });

  it('caps the output and turns corruption into FormatError', () => {
    assert.throws(() => decompress(fixture('kexec-9MB.txt.bz2'), 1 << 20), LimitError);
    const bz = fixture('hello.txt.bz2');
    assert.throws(() => decompress(bz.subarray(0, bz.byteLength - 4)), FormatError);
    const flipped = bz.slice();
    flipped[20] = flipped[20]! ^ 0x55;
    assert.throws(() => decompress(flipped), FormatError);
  });
});
