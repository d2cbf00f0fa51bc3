// The system's liblzo2 through koffi (src/sys/liblzo2.ts). The library must be installed: the unit
// test setup (scripts/fetch-fixtures.sh) installs liblzo2-2, so these tests never pass without it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { StateError } from '../../../src/errors.js';
import { lzo1xDecompress } from '../../../src/kdump/compressed/lzo.js';
import { LIBLZO2, liblzo2File, lzo1xWorstCase, openLiblzo2 } from '../../../src/sys/liblzo2.js';

const PAGE = 4096;

/** Pages like a kernel's memory: zero, log text, a struct-page-like table, a repeating pattern, random. */
function realishPages(): Record<string, Buffer> {
  const text = Buffer.from(
    '[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14)\n' +
      '[    0.004000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable\n',
  );
  const table = Buffer.alloc(PAGE);
  for (let i = 0; i < PAGE / 64; i++) {
    // struct page (64 bytes): flags, two list pointers, a mapping pointer, an index, refcounts
    table.writeBigUInt64LE(0x17ffffc0000000n | BigInt(i & 3), i * 64);
    table.writeBigUInt64LE(0xffffea0000400008n + BigInt(i * 64), i * 64 + 8);
    table.writeBigUInt64LE(0xffffea0000400008n + BigInt(i * 64), i * 64 + 16);
    table.writeBigUInt64LE(0xffff888003a1c000n, i * 64 + 24);
    table.writeBigUInt64LE(BigInt(i), i * 64 + 32);
    table.writeUInt32LE(0xffffffff, i * 64 + 48);
    table.writeUInt32LE(1, i * 64 + 52);
  }
  const pattern = Buffer.alloc(PAGE);
  for (let i = 0; i < PAGE; i++) pattern[i] = (i * 7) & 0x3f;
  const half = Buffer.alloc(PAGE);
  randomBytes(PAGE / 2).copy(half, PAGE / 4);
  return {
    zero: Buffer.alloc(PAGE),
    text: Buffer.alloc(PAGE, text),
    table,
    pattern,
    half,
    random: randomBytes(PAGE),
  };
}

describe('liblzo2 (lzo1x_1_compress, lzo1x_decompress_safe)', () => {
  const lib = openLiblzo2();

  it('loads the soname makedumpfile links, and lzo_init accepts the sizes lzoconf.h passes', () => {
    assert.equal(lib.library, 'liblzo2.so.2');
    assert.equal(LIBLZO2, 'liblzo2.so.2');
    assert.match(lib.version, /^2\.\d+$/, 'LZO 2 (Debian 12 ships 2.10)');
  });

  it('pages round-trip through our JS decoder and through liblzo2; each stream ends with 0x11 0 0', () => {
    const out = new Uint8Array(lzo1xWorstCase(PAGE));
    const back = new Uint8Array(PAGE);
    for (const [name, page] of Object.entries(realishPages())) {
      const n = lib.compress(page, out);
      const stream = out.subarray(0, n);
      assert.deepEqual([...stream.subarray(-3)], [0x11, 0x00, 0x00], `${name}: lzo.rst end of stream`);
      assert.ok(Buffer.from(lzo1xDecompress(stream, PAGE)).equals(page), `${name}: our decoder`);
      back.fill(0xaa);
      assert.equal(lib.decompress(stream, back), PAGE, `${name}: liblzo2 length`);
      assert.ok(Buffer.from(back).equals(page), `${name}: liblzo2 decoder`);
      if (name === 'zero') assert.ok(n < 64, `a zero page packs small (${n})`);
      if (name === 'random') assert.ok(n > PAGE, `random data expands (${n})`);
    }
  });

  it('reused work memory and output buffer: the same page gives the same bytes on every call', () => {
    const pages = Object.values(realishPages());
    const out = new Uint8Array(lzo1xWorstCase(PAGE));
    const first = pages.map((p) => Buffer.from(out.subarray(0, lib.compress(p, out))));
    const other = openLiblzo2(); // its own work memory
    for (let round = 0; round < 3; round++) {
      // reversed order, so each call follows a different page than the first time
      for (let i = pages.length - 1; i >= 0; i--) {
        const n = lib.compress(pages[i]!, out);
        assert.ok(first[i]!.equals(out.subarray(0, n)), `page ${i}, round ${round}`);
        assert.ok(first[i]!.equals(out.subarray(0, other.compress(pages[i]!, out))), `page ${i}, other`);
      }
    }
  });

  it('compressInto (buffers by address) writes the bytes compress gives, at the offsets asked', () => {
    const pages = Object.values(realishPages());
    const src = Buffer.concat(pages);
    const want = new Uint8Array(lzo1xWorstCase(PAGE));
    const dst = new Uint8Array(3 * lzo1xWorstCase(PAGE));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < pages.length; i++) {
        const n = lib.compress(pages[i]!, want);
        const dstOff = 7 + i * 13 + round;
        dst.fill(0xaa);
        assert.equal(lib.compressInto(src, i * PAGE, PAGE, dst, dstOff), n, `page ${i} length`);
        assert.ok(Buffer.from(dst.subarray(dstOff, dstOff + n)).equals(want.subarray(0, n)), `page ${i}`);
        assert.equal(dst[dstOff - 1], 0xaa, 'nothing before dstOff');
      }
    }
    // Another source buffer at the same offsets is read from its own address.
    const other = Buffer.concat(pages.slice().reverse());
    const n = lib.compressInto(other, 0, PAGE, dst, 0);
    assert.ok(Buffer.from(lzo1xDecompress(dst.subarray(0, n), PAGE)).equals(pages.at(-1)!));
    const bad = (f: () => number) => assert.throws(f, RangeError);
    bad(() => lib.compressInto(src, src.byteLength - PAGE + 1, PAGE, dst, 0)); // past the source
    bad(() => lib.compressInto(src, 0, PAGE, dst, dst.byteLength - lzo1xWorstCase(PAGE) + 1)); // no room
    bad(() => lib.compressInto(src, -1, PAGE, dst, 0));
    bad(() => lib.compressInto(src, 0.5, PAGE, dst, 0));
    bad(() => lib.compressInto(new Uint8Array(64), 0, 16, dst, 0)); // may live on V8's heap
  });

  it('corrupt or short input and a small output are LZO errors; a missing library is E_STATE', () => {
    const page = realishPages()['text']!;
    const out = new Uint8Array(lzo1xWorstCase(PAGE));
    const stream = out.subarray(0, lib.compress(page, out));
    // lzoconf.h: LZO_E_INPUT_OVERRUN (-4), LZO_E_OUTPUT_OVERRUN (-5)
    assert.throws(() => lib.decompress(stream.subarray(0, -3), new Uint8Array(PAGE)), /LZO_E_INPUT_OVERRUN/);
    assert.throws(() => lib.decompress(stream, new Uint8Array(PAGE - 1)), /LZO_E_OUTPUT_OVERRUN/);
    assert.throws(() => lib.compress(page, new Uint8Array(PAGE)), RangeError);
    assert.throws(
      () => openLiblzo2('liblzo2-not-installed.so.9'),
      (e: unknown) =>
        e instanceof StateError && e.code === 'E_STATE' && /liblzo2-not-installed/.test(e.message),
    );
  });

  it('liblzo2File: the mapped library file, whose directory holds the soname the loader found', () => {
    const file = liblzo2File();
    assert.ok(file, 'loaded, so mapped');
    assert.match(file, /^\/.*\/liblzo2\.so\.2[.\d]*$/);
    assert.equal(realpathSync(join(dirname(file), LIBLZO2)), realpathSync(file));
    assert.ok(existsSync(file));
    assert.equal(liblzo2File('liblzo2-not-installed.so.9'), undefined);
  });
});
