import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FormatError, LimitError } from '../../../src/errors.js';
import { Arm64ImageHeader } from '../../../src/formats/arm64/image.js';
import { XLF_CAN_BE_LOADED_ABOVE_4G, XLF_KERNEL_64 } from '../../../src/formats/bzimage/setup-header.js';
import { Multiboot2Header, MultibootHeader } from '../../../src/formats/multiboot/multiboot.js';
import { PROBES, prepareKernel, probeAll, probeImage } from '../../../src/formats/probe.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildElf } from '../../helpers/build-elf.js';
import { zstdCompressSync } from '../../helpers/zstd.js';

function multiboot(at: number): Uint8Array {
  const b = new Uint8Array(at + 64);
  const magic = 0x1badb002;
  const flags = 3;
  MultibootHeader.encode({ magic, flags, checksum: -(magic + flags) >>> 0 }, b, at);
  return b;
}
function multiboot2(at: number): Uint8Array {
  const b = new Uint8Array(at + 64);
  const magic = 0xe85250d6;
  Multiboot2Header.encode(
    { magic, architecture: 0, header_length: 16, checksum: -(magic + 16) >>> 0 },
    b,
    at,
  );
  return b;
}

describe('probe registry', () => {
  it('keeps the documented order', () => {
    assert.deepEqual(
      PROBES.map((p) => p.name),
      [
        'bzImage64',
        'bzImage',
        'elf-x86_64',
        'uki',
        'zboot',
        'arm64-Image',
        'riscv64-Image',
        'pe',
        'multiboot',
        'multiboot2',
      ],
    );
  });

  it('matches each format with the first probe that accepts it', () => {
    const arm = Arm64ImageHeader.encode(
      { code0: 0x5a4d, text_offset: 0n, image_size: 0x2000000n, flags: 0xcn, magic: 'ARM\x64' },
      new Uint8Array(4096),
    );
    const cases: [Uint8Array, string][] = [
      [buildBzImage({ signed: true }), 'bzImage64'],
      [buildBzImage({ version: 0x020b, xloadflags: 0 }), 'bzImage'],
      [buildBzImage({ xloadflags: XLF_KERNEL_64 }), 'bzImage'],
      [buildElf().bytes, 'elf-x86_64'],
      [arm, 'arm64-Image'],
      [buildBzImage({ pe: true, fields: { header: 'none' } }), 'pe'],
      [multiboot(8192 - 12), 'multiboot'],
      [multiboot2(32768 - 16), 'multiboot2'],
    ];
    for (const [bytes, name] of cases) assert.equal(probeImage(bytes).name, name);
    const m = probeImage(arm);
    assert.ok(m.name === 'arm64-Image' && m.header.pageSize === '16K' && m.header.placeAnywhere);
  });

  it('honours the multiboot search windows and checksums', () => {
    assert.equal(probeAll(multiboot(8192)).match, undefined);
    assert.equal(probeAll(multiboot2(32768)).match, undefined);
    const bad = multiboot(0);
    bad[8] = 0;
    assert.equal(probeAll(bad).match, undefined);
  });

  it('throws "Cannot determine the file type" listing every reason', () => {
    const err = (() => {
      try {
        probeImage(new Uint8Array(4096), 'junk.bin');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof FormatError);
    assert.equal(err.message, 'Cannot determine the file type of junk.bin');
    assert.match(
      err.hint!,
      /^bzImage64: no "HdrS" at 0x202; bzImage: no "HdrS" at 0x202; elf-x86_64: bad ELF magic; uki: no PE with a ".linux" section; zboot: no "MZ" \+ "zimg" at 4; arm64-Image: /,
    );
    assert.equal(err.hint!.split('; ').length, PROBES.length);
  });
});

describe('prepareKernel', () => {
  const bz = buildBzImage({ xloadflags: XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, kernelVersion: '6.1' });

  it('passes an uncompressed kernel through unchanged', () => {
    const p = prepareKernel(bz);
    assert.equal(p.bytes, bz);
    assert.equal(p.compression, undefined);
    assert.equal(p.match.name, 'bzImage64');
  });

  it('undoes whole-file gzip and zstd first (slurp_decompress_file)', () => {
    for (const [packed, kind] of [
      [gzipSync(bz), 'gzip'],
      [zstdCompressSync(bz), 'zstd'],
    ] as const) {
      const p = prepareKernel(packed);
      assert.equal(p.compression, kind);
      assert.deepEqual(p.bytes, bz);
      assert.equal(p.match.name, 'bzImage64');
    }
  });

  it('reports a corrupt compressed kernel with the decompression error in the hint', () => {
    const gz = gzipSync(bz);
    try {
      prepareKernel(gz.subarray(0, gz.byteLength - 12), 'vmlinuz.gz');
      assert.fail('expected FormatError');
    } catch (e) {
      assert.ok(e instanceof FormatError);
      assert.match(e.message, /Cannot determine the file type of vmlinuz.gz/);
      assert.match(e.hint!, /^gzip decompression: /);
    }
  });

  it('lets LimitError through', () => {
    assert.throws(() => prepareKernel(gzipSync(new Uint8Array(2 << 20)), 'big', 1 << 20), LimitError);
  });

  it('fails to probe decompressed junk with the usual message', () => {
    assert.throws(() => prepareKernel(gzipSync(new Uint8Array(4096))), /Cannot determine the file type/);
  });
});
