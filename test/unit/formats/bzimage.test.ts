import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TruncatedError } from '../../../src/errors.js';
import { parseBzImage } from '../../../src/formats/bzimage/parse.js';
import { probeBzImage, probeBzImage64 } from '../../../src/formats/bzimage/probe.js';
import {
  LOADED_HIGH,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_EFI_KEXEC,
  XLF_KERNEL_64,
} from '../../../src/formats/bzimage/setup-header.js';
import { buildBzImage, KERNEL_VERSION_AT } from '../../helpers/build-bzimage.js';

const XLF64 = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('probeBzImage64 (kernel bzImage64_probe rules)', () => {
  it('accepts a protocol 2.12 image with LOADED_HIGH, XLF_KERNEL_64 and XLF_CAN_BE_LOADED_ABOVE_4G', () => {
    const r = probeBzImage64(buildBzImage({ version: 0x020c, xloadflags: XLF64 }));
    assert.equal(reason(r), 'ok');
  });

  it('rejects each rule with a readable reason', () => {
    const cases: [Parameters<typeof buildBzImage>[0], RegExp][] = [
      [{ fields: { header: 'HdrT' } }, /^no "HdrS" at 0x202$/],
      [{ fields: { boot_flag: 0x55aa } }, /boot_flag at 0x1fe is 0x55aa/],
      [{ version: 0x020b }, /boot protocol 2\.11 is older than 2\.12/],
      [{ loadflags: 0 }, /LOADED_HIGH/],
      [{ xloadflags: XLF_CAN_BE_LOADED_ABOVE_4G }, /XLF_KERNEL_64/],
      [{ xloadflags: XLF_KERNEL_64 | XLF_EFI_KEXEC }, /XLF_CAN_BE_LOADED_ABOVE_4G/],
    ];
    for (const [spec, re] of cases) {
      const r = probeBzImage64(buildBzImage(spec));
      assert.equal(r.ok, false, JSON.stringify(spec));
      assert.match(reason(r)!, re);
    }
  });

  it('needs two sectors: 1024 bytes pass the size rule, 1023 do not', () => {
    const full = buildBzImage({ setup_sects: 1, payload: new Uint8Array(0), payloadOffset: 0 });
    assert.equal(full.byteLength, 1024);
    assert.equal(reason(probeBzImage64(full)), 'ok');
    const short = probeBzImage64(full.subarray(0, 1023));
    assert.match(reason(short)!, /shorter than 2 sectors/);
  });

  it('reports a setup area longer than the file as a reason, not a throw', () => {
    const bytes = buildBzImage({ setup_sects: 64 }).subarray(0, 4096);
    assert.match(reason(probeBzImage64(bytes))!, /need 33280 bytes/);
  });
});

describe('probeBzImage (kexec_load, protocol >= 2.00)', () => {
  it('accepts old protocols and 32-bit xloadflags', () => {
    assert.equal(reason(probeBzImage(buildBzImage({ version: 0x0200, xloadflags: 0 }))), 'ok');
    assert.match(reason(probeBzImage(buildBzImage({ version: 0x01ff })))!, /older than 2\.00/);
    assert.match(reason(probeBzImage(buildBzImage({ loadflags: 0 })))!, /zImage/);
  });
});

describe('parseBzImage', () => {
  it('derives setup size, version string, payload compression and PE signature', () => {
    const zstd = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]);
    const bz = parseBzImage(
      buildBzImage({ setup_sects: 0, kernelVersion: '6.1.0-test (x) #1', payload: zstd, signed: true }),
    );
    assert.equal(bz.setupSects, 4);
    assert.equal(bz.setupSize, 2560);
    assert.equal(bz.kernelVersion, '6.1.0-test (x) #1');
    assert.equal(bz.payloadCompression, 'zstd');
    assert.equal(bz.pe?.signed, true);
    assert.equal(bz.pe?.arch, 'x86_64');
    assert.deepEqual(bz.warnings, []);
  });

  it('detects every payload magic', () => {
    const magics: Record<string, number[]> = {
      gzip: [0x1f, 0x8b],
      xz: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
      zstd: [0x28, 0xb5, 0x2f, 0xfd],
      lz4: [0x02, 0x21, 0x4c, 0x18],
      bzip2: [0x42, 0x5a, 0x68],
      lzma: [0x5d, 0x00, 0x00],
      lzo: [0x89, 0x4c, 0x5a, 0x4f],
      none: [0x7f, 0x45, 0x4c, 0x46],
    };
    for (const [name, magic] of Object.entries(magics)) {
      const bz = parseBzImage(buildBzImage({ payload: Uint8Array.from([...magic, 0, 0, 0, 0]) }));
      assert.equal(bz.payloadCompression, name);
    }
  });

  it('is not PE without "PE\\0\\0", and unsigned without a certificate directory', () => {
    assert.equal(parseBzImage(buildBzImage()).pe, undefined);
    const pe = parseBzImage(buildBzImage({ pe: true })).pe;
    assert.equal(pe?.signed, false);
  });

  it('warns, not throws, on a bad version pointer or payload range', () => {
    const bz = parseBzImage(buildBzImage({ fields: { kernel_version: 0x7000, payload_length: 0x100000 } }));
    assert.equal(bz.kernelVersion, undefined);
    assert.equal(bz.warnings.length, 2);
  });

  it('caps an unterminated version string', () => {
    const bytes = buildBzImage({ setup_sects: 20, kernelVersion: 'x' });
    bytes.fill(0x41, KERNEL_VERSION_AT, 21 * 512);
    assert.equal(parseBzImage(bytes).kernelVersion, undefined);
  });

  it('throws TruncatedError, never RangeError, at every truncation of the header', () => {
    const bytes = buildBzImage({ kernelVersion: '6.1' });
    for (let n = 0; n < 0x26c; n += 7) {
      assert.throws(() => parseBzImage(bytes.subarray(0, n)), TruncatedError);
    }
    assert.throws(() => parseBzImage(bytes.subarray(0, 0x26b)), TruncatedError);
    assert.throws(() => parseBzImage(bytes.subarray(0, 2559)), TruncatedError);
    assert.doesNotThrow(() => parseBzImage(bytes.subarray(0, 2560)));
    assert.equal(LOADED_HIGH, 1);
  });
});
