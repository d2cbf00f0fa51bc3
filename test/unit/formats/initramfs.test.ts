// The initramfs walk: concatenated archives, NUL padding, compressed segments, member types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { listInitramfs, summarizeInitramfs } from '../../../src/formats/cpio/initramfs.js';
import { formatImageInfo, inspectImage } from '../../../src/formats/inspect.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { zstdCompressSync } from '../../helpers/zstd.js';

const text = (s: string) => new TextEncoder().encode(s);
const main = buildCpio([
  { name: 'init', data: text('#!/bin/sh\n'), mode: 0o100755 },
  { name: 'bin', mode: 0o40755 },
  { name: 'dev/console', mode: 0o20600 },
]);
const early = buildCpio([
  { name: 'kernel', mode: 0o40755 },
  { name: 'kernel/x86/microcode/AuthenticAMD.bin', data: new Uint8Array(100) },
]);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('listInitramfs', () => {
  it('walks microcode + NUL padding + a zstd main image, with types and modes', () => {
    const img = cat(early, new Uint8Array(512), zstdCompressSync(cat(main, main)));
    const info = listInitramfs(img);
    assert.deepEqual(
      info.segments.map((s) => [s.compression, s.archives, s.members]),
      [
        ['none', 1, 2],
        ['zstd', 2, 6],
      ],
    );
    assert.deepEqual(info.microcode, ['AuthenticAMD.bin']);
    assert.equal(info.hasInit, true);
    assert.deepEqual(
      info.members.slice(2, 5).map((m) => [m.type, m.mode.toString(8), m.name]),
      [
        ['-', '755', 'init'],
        ['d', '755', 'bin'],
        ['c', '600', 'dev/console'],
      ],
    );
    assert.equal(summarizeInitramfs(info), '2 segments: cpio (2 members), zstd cpio (6 members)');
  });

  it('keeps what it read before damage and warns about trailing junk', () => {
    const info = listInitramfs(cat(main, text('junk!junk!')));
    assert.equal(info.members.length, 3);
    assert.match(info.warnings[0]!, /unrecognised data at 0x/);
  });

  it('inspect --members lists every member under the summary', () => {
    const info = inspectImage(gzipSync(main), 'initrd.img', { members: true });
    assert.equal(info.initramfs?.list?.length, 3);
    assert.match(formatImageInfo(info), /member: +- 0755 +10 init/);
    assert.equal(inspectImage(main).initramfs?.list, undefined, 'summary only by default');
  });
});
