import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EM_AARCH64 } from '../../../src/formats/elf/ehdr.js';
import { formatImageInfo, inspectImage } from '../../../src/formats/inspect.js';
import { PROBES } from '../../../src/formats/probe.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { buildElf } from '../../helpers/build-elf.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('inspectImage', () => {
  it('describes a signed bzImage64 with hex strings for 64-bit values', () => {
    const info = inspectImage(buildBzImage({ kernelVersion: '6.1.0-test', signed: true }), 'vmlinuz');
    assert.deepEqual(JSON.parse(JSON.stringify(info)), {
      name: 'vmlinuz',
      type: 'bzImage64',
      arch: 'x86_64',
      kernelVersion: '6.1.0-test',
      payloadCompression: 'gzip',
      protocol: '2.15',
      relocatable: true,
      prefAddress: '0x1000000',
      kernelAlignment: '0x200000',
      initSize: '0x2000000',
      cmdlineSize: 2047,
      xloadflags: ['XLF_KERNEL_64', 'XLF_CAN_BE_LOADED_ABOVE_4G'],
      pe: true,
      signed: true,
      // The helper's 64-byte WIN_CERTIFICATE holds zeros, not a PKCS#7: declared signed, and malformed.
      signature: {
        state: 'malformed',
        signatures: 0,
        reason: 'pkcs7: WIN_CERTIFICATE does not hold a DER SEQUENCE (wrong tag)',
      },
      size: info.size,
      loadPaths: ['kexec_file_load', 'kexec_load'],
      notes: [],
      warnings: [],
    });
  });

  it('summarises a real signature: Debian-signed 6.12, signer, issuer and digest', () => {
    const info = inspectImage(
      new Uint8Array(readFileSync('test/fixtures/real/vmlinuz-6.12.107+deb12-cloud-amd64')),
    );
    assert.equal(info.signature?.state, 'valid');
    assert.equal(info.signature?.signer, 'CN=Debian Secure Boot Signer 2022 - linux');
    assert.equal(info.signature?.issuer, 'CN=Debian Secure Boot CA');
    assert.equal(info.signature?.digestMatches, true);
    assert.match(
      formatImageInfo(info),
      /signer: +CN=Debian Secure Boot Signer 2022 - linux \(issuer CN=Debian Secure Boot CA\)/,
    );
  });

  it('notes an unsigned kernel and a kexec_load-only bzImage', () => {
    assert.match(inspectImage(buildBzImage()).notes.join(), /unsigned/);
    const old = inspectImage(buildBzImage({ version: 0x0205, xloadflags: 0 }));
    assert.equal(old.type, 'bzImage');
    assert.deepEqual(old.loadPaths, ['kexec_load']);
    // cmdline_size is 2.06+; boot.rst: "With protocol version 2.05 and earlier, the maximum size was 255".
    assert.equal(old.cmdlineSize, 255);
    assert.equal(inspectImage(buildBzImage({ version: 0x0206 })).cmdlineSize, 2047);
  });

  it('describes a gzip-compressed ELF vmlinux and finds its version string', () => {
    const { bytes } = buildElf({ loads: 1 });
    const withVersion = new Uint8Array([...bytes, ...text('Linux version 6.1.0-x (gcc) #1\n\0')]);
    const info = inspectImage(gzipSync(withVersion));
    assert.equal(info.type, 'elf-x86_64');
    assert.equal(info.compression, 'gzip');
    assert.equal(info.decompressedSize, withVersion.byteLength);
    assert.equal(info.kernelVersion, '6.1.0-x (gcc) #1');
    assert.equal(info.entry, '0x1000000');
    assert.deepEqual(info.loadPaths, ['kexec_load']);
  });

  it('describes a foreign ELF as elf with its arch and describe-only', () => {
    const info = inspectImage(buildElf({ machine: EM_AARCH64 }).bytes);
    assert.equal(info.type, 'elf');
    assert.equal(info.arch, 'arm64');
    assert.deepEqual(info.loadPaths, []);
  });

  it('counts cpio newc members, also when compressed or followed by another archive', () => {
    const cpio = buildCpio([
      { name: 'init', data: text('#!/bin/sh\n') },
      { name: 'dev', mode: 0o40755 },
      { name: 'dev/console' },
    ]);
    assert.equal(inspectImage(cpio).members, 3);
    const packed = inspectImage(gzipSync(cpio));
    assert.deepEqual([packed.type, packed.compression, packed.members], ['initramfs', 'gzip', 3]);
    const early = inspectImage(
      new Uint8Array([...buildCpio([{ name: 'kernel/x86/microcode/GenuineIntel.bin' }]), ...gzipSync(cpio)]),
    );
    // Every archive is walked: the microcode archive's member and the gzip main image's three.
    assert.equal(early.members, 4);
    assert.deepEqual(
      early.initramfs?.segments.map((s) => [s.compression, s.members]),
      [
        ['none', 1],
        ['gzip', 3],
      ],
    );
    assert.deepEqual(early.initramfs?.microcode, ['GenuineIntel.bin']);
    assert.match(early.notes.join(), /2 segments: cpio \(1 members\), gzip cpio \(3 members\)/);
    const cut = inspectImage(cpio.subarray(0, 200));
    assert.equal(cut.type, 'initramfs');
    assert.equal(cut.warnings.length, 1);
  });

  it('describes unsupported or corrupt compression instead of throwing', () => {
    assert.match(inspectImage(Uint8Array.from([0x42, 0x5a, 0x68, 0x39, 0, 0])).warnings[0]!, /bzip2/);
    const bad = inspectImage(gzipSync(text('x')).subarray(0, 12));
    assert.equal(bad.type, 'compressed');
    assert.equal(bad.warnings.length, 1);
    const bomb = inspectImage(gzipSync(new Uint8Array(2 << 20)), 'bomb', { maxOutput: 1 << 20 });
    assert.match(bomb.warnings[0]!, /exceeds/);
  });

  it('lists every probe reason for unknown data', () => {
    const info = inspectImage(new Uint8Array(2048));
    assert.equal(info.type, 'unknown');
    assert.equal(info.notes.length, PROBES.length);
  });
});

describe('formatImageInfo', () => {
  it('prints aligned key: value lines', () => {
    const out = formatImageInfo(
      inspectImage(buildBzImage({ kernelVersion: '6.1.0-test', signed: true }), 'vmlinuz'),
    );
    const lines = out.split('\n');
    assert.equal(lines[0], 'file:                vmlinuz');
    assert.ok(lines.includes('type:                bzImage64'));
    assert.ok(lines.includes('signed:              yes'));
    assert.ok(lines.includes('load with:           kexec_file_load, kexec_load'));
    const col = lines.map((l) => l.search(/(?<=:\s+)\S/));
    assert.ok(
      col.every((c) => c === col[0]),
      'values start in one column',
    );
  });
});
