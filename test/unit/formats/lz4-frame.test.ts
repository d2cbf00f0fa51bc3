// lz4 frame format, on files written by the lz4 command (fixtures): default frames, 64 KiB dependent
// blocks with a content size, uncompressed blocks (incompressible data), concatenated frames with a
// skippable frame between them; corrupt and oversized input gives typed errors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../../src/errors.js';
import { decompress } from '../../../src/formats/compress/decompress.js';
import { detectCompression } from '../../../src/formats/compress/detect.js';
import { lz4FrameDecompress } from '../../../src/formats/compress/lz4-frame.js';

const root = new URL('../../../../', import.meta.url);
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`test/fixtures/compress/${name}`, root)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const HELLO = fixture('hello.txt');

describe('lz4 frame format', () => {
  it('is detected and decoded by decompress()', () => {
    const src = fixture('hello.txt.frame.lz4');
    assert.equal(detectCompression(src), 'lz4-frame');
    assert.deepEqual(decompress(src, 1 << 20), HELLO);
  });
  it('decodes 64 KiB dependent blocks with a content size (9 MB of text)', () => {
    const out = lz4FrameDecompress(fixture('kexec-9MB.txt.frame.lz4'), 16 << 20);
    assert.equal(out.byteLength, 9_000_000);
    assert.equal(sha256(out), '8ba226f62991b7f0a4cad496d35b055d2c7e74eb01fa36fb0c66329f4fbbd0a6');
  });
  it('copies uncompressed blocks (incompressible data)', () => {
    const out = lz4FrameDecompress(fixture('rand-70k.frame.lz4'), 1 << 20);
    assert.equal(sha256(out), '752d24e1e827184df4342418e9fc718acee84a1ef256bc069b56677e594d2f71');
  });
  it('decodes concatenated frames and skips skippable frames', () => {
    const out = lz4FrameDecompress(fixture('hello-twice.frame.lz4'), 1 << 20);
    assert.deepEqual(out, new Uint8Array([...HELLO, ...HELLO]));
  });
  it('refuses output past the limit with a LimitError', () => {
    assert.throws(() => lz4FrameDecompress(fixture('kexec-9MB.txt.frame.lz4'), 1 << 20), LimitError);
  });
  it('gives a FormatError for every truncation of a frame, never another error', () => {
    const src = fixture('hello.txt.frame.lz4');
    for (let n = 0; n < src.byteLength; n++) {
      try {
        lz4FrameDecompress(src.subarray(0, n), 1 << 20);
      } catch (e) {
        assert.ok(e instanceof FormatError, `length ${n}: ${e}`);
        continue;
      }
      // A cut that lands exactly after the end mark (dropping only the content checksum) may decode.
      assert.ok(n >= src.byteLength - 4, `length ${n} decoded`);
    }
  });
});
