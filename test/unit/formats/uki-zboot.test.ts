// UKI and zboot parsing on synthetic images built with the parsers' own struct tables
// (test/helpers/build-pe.ts); the real ones are in real-images.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FormatError, TruncatedError } from '../../../src/errors.js';
import { Arm64ImageHeader } from '../../../src/formats/arm64/image.js';
import { inspectImage } from '../../../src/formats/inspect.js';
import { parsePe } from '../../../src/formats/pe/pe.js';
import { parsePeSections } from '../../../src/formats/pe/sections.js';
import { prepareKernel, probeImage } from '../../../src/formats/probe.js';
import { parseOsRelease, parseUki } from '../../../src/formats/uki/uki.js';
import { parseZboot, unwrapZboot } from '../../../src/formats/zboot/zboot.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { buildPe, buildUki, buildZboot } from '../../helpers/build-pe.js';

const OSREL = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
const kernel = buildBzImage({ kernelVersion: '6.1.0-uki (builder) #1', signed: true });
const initrd = buildCpio([{ name: 'init', data: new TextEncoder().encode('#!/bin/sh\n') }]);
const ucode = buildCpio([{ name: 'kernel/x86/microcode/GenuineIntel.bin' }]);
const arm64Image = () =>
  Arm64ImageHeader.encode(
    { code0: 0x5a4d, text_offset: 0n, image_size: 0x10000n, flags: 0xan, magic: 'ARM\x64' },
    new Uint8Array(0x10000),
  );

describe('PE sections', () => {
  it('reads names, offsets and VirtualSize-trimmed sizes', () => {
    const pe = buildPe({
      sections: [
        { name: '.cmdline', data: 'quiet\0' },
        { name: '.linux', data: kernel },
      ],
    });
    const s = parsePeSections(pe, parsePe(pe)!);
    assert.deepEqual(
      s.map((x) => [x.name, x.size, x.rawSize]),
      [
        ['.cmdline', 6, 0x200],
        ['.linux', kernel.byteLength, Math.ceil(kernel.byteLength / 0x200) * 0x200],
      ],
    );
  });

  it('refuses a section table past the end of the file', () => {
    const pe = buildPe({ sections: [{ name: '.linux', data: 'x' }] });
    assert.throws(() => parsePeSections(pe.subarray(0, 0x80 + 24 + 240 + 10), parsePe(pe)!), TruncatedError);
  });
});

describe('UKI', () => {
  const uki = buildUki({
    linux: kernel,
    initrd,
    ucode,
    cmdline: 'root=/dev/vda quiet\n',
    osrel: OSREL,
    uname: '6.1.0-uki',
  });

  it('gives .linux, .ucode+.initrd, .cmdline (trimmed), .uname and .osrel', () => {
    const u = parseUki(uki)!;
    assert.deepEqual(Buffer.from(u.linux), Buffer.from(kernel));
    assert.deepEqual(Buffer.from(u.initrd!), Buffer.concat([ucode, initrd]));
    assert.equal(u.cmdline, 'root=/dev/vda quiet');
    assert.equal(u.uname, '6.1.0-uki');
    assert.equal(u.osrel?.['PRETTY_NAME'], 'Debian GNU/Linux 12 (bookworm)');
    assert.deepEqual(
      u.parts.map((p) => p.name),
      ['.text', '.osrel', '.cmdline', '.uname', '.ucode', '.initrd', '.linux'],
    );
  });

  it('is not a UKI without .linux; a .linux past the end is a TruncatedError', () => {
    assert.equal(parseUki(buildPe({ sections: [{ name: '.text', data: 'x' }] })), undefined);
    const cut = uki.subarray(0, uki.byteLength - 0x400);
    assert.throws(() => parseUki(cut), TruncatedError);
  });

  it('probes as uki and prepares the kernel inside with its initrd and cmdline', () => {
    assert.equal(probeImage(uki).name, 'uki');
    const p = prepareKernel(uki, 'uki.efi');
    assert.equal(p.match.name, 'uki');
    assert.equal(p.wrapped?.kind, 'uki');
    assert.equal(p.wrapped?.kernel.match.name, 'bzImage64');
    assert.equal(p.wrapped?.cmdline, 'root=/dev/vda quiet');
    assert.equal(p.wrapped?.initrd?.byteLength, ucode.byteLength + initrd.byteLength);
  });

  it('a UKI whose .linux is not a kernel fails with the inner name', () => {
    const bad = buildUki({ linux: new Uint8Array(4096) });
    assert.throws(
      () => prepareKernel(bad, 'bad.efi'),
      /Cannot determine the file type of bad.efi \(.linux\)/,
    );
  });

  it('inspect lists the parts, PRETTY_NAME, .uname, .cmdline, the initrd and the inner kernel', () => {
    const info = inspectImage(uki, 'uki.efi');
    assert.equal(info.type, 'uki');
    assert.equal(info.arch, 'x86_64');
    assert.equal(info.kernelVersion, '6.1.0-uki (builder) #1');
    assert.equal(info.uki?.prettyName, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(info.uki?.cmdline, 'root=/dev/vda quiet');
    assert.equal(info.uki?.kernel.type, 'bzImage64');
    assert.equal(info.uki?.initrd?.members, 2);
    assert.deepEqual(info.uki?.initrd?.microcode, ['GenuineIntel.bin']);
    assert.deepEqual(info.loadPaths, ['kexec_file_load', 'kexec_load']);
    assert.equal(info.signed, false, 'the UKI itself is unsigned; its .linux is signed');
    assert.equal(info.uki?.kernel['signed'], true);
  });

  it('parses os-release quoting', () => {
    assert.deepEqual(parseOsRelease('# c\nA="x \\"y\\""\nB=\'z\'\nC=plain\nbad line\n'), {
      A: 'x "y"',
      B: 'z',
      C: 'plain',
    });
  });
});

describe('EFI zboot', () => {
  const image = arm64Image();
  const z = buildZboot(gzipSync(image), 'gzip');

  it('reads the zboot-header.S fields and decompresses the payload', () => {
    const h = parseZboot(z)!;
    assert.equal(h.compType, 'gzip');
    assert.equal(h.arch, 'arm64');
    assert.equal(h.declaredSize, image.byteLength, 'gzip ISIZE');
    assert.deepEqual(Buffer.from(unwrapZboot(z, h)), Buffer.from(image));
    const p = prepareKernel(z);
    assert.equal(p.match.name, 'zboot');
    assert.equal(p.wrapped?.kernel.match.name, 'arm64-Image');
  });

  it('reads the size trailer of non-gzip payloads and refuses unknown compressors', () => {
    const h = parseZboot(buildZboot(gzipSync(image), 'zstd', 0xaa64, 1234))!;
    assert.equal(h.declaredSize, 1234);
    const odd = parseZboot(buildZboot(gzipSync(image), 'brotli'))!;
    assert.throws(() => unwrapZboot(buildZboot(gzipSync(image), 'brotli'), odd), FormatError);
  });

  it('a payload past the end of the file is a TruncatedError', () => {
    assert.throws(() => parseZboot(z.subarray(0, z.byteLength - 0x300)), TruncatedError);
  });

  it('inspect describes the zboot and the Image inside', () => {
    const info = inspectImage(z, 'vmlinuz.efi');
    assert.equal(info.type, 'zboot');
    assert.equal(info.arch, 'arm64');
    assert.equal(info.zboot?.compType, 'gzip');
    assert.equal(info.zboot?.kernel?.type, 'arm64-Image');
  });
});
