// Loading what the kernel does not take itself (UKI, zboot) against FakeSys: the first
// kexec_file_load gets the file as it is; when the kernel answers ENOEXEC or EINVAL, the retry gets
// memfds with the inner kernel, the UKI's .initrd, and its .cmdline unless a command line was given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { main } from '../../../src/cli/main.js';
import { Arm64ImageHeader } from '../../../src/formats/arm64/image.js';
import { parseUki } from '../../../src/formats/uki/uki.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { KEXEC_FILE_NO_INITRAMFS } from '../../../src/sys/types.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { buildUki, buildZboot } from '../../helpers/build-pe.js';

const KERNEL = buildBzImage({ kernelVersion: '6.1.0-uki', signed: true });
const INITRD = buildCpio([{ name: 'init', data: new TextEncoder().encode('#!/bin/sh\n') }]);
const UKI = buildUki({
  linux: KERNEL,
  initrd: INITRD,
  cmdline: 'lab.uki=1 console=ttyS0',
  uname: '6.1.0-uki',
});

/** A kernel that, like x86_64's, takes only a bzImage: ENOEXEC for anything whose fd holds a UKI. */
function machine(arch: 'x86_64' | 'aarch64' = 'x86_64', errno = 'ENOEXEC'): FakeSys {
  const sys: FakeSys = new FakeSys({
    arch,
    files: { '/boot/uki.efi': UKI, '/boot/other.img': INITRD, '/proc/cmdline': 'root=/dev/vda\n' },
    failures: {
      kexecFileLoad: (args) => {
        const data = sys.fdData(args[0] as number);
        return data && (parseUkiSafe(data) || data[4] === 0x7a) ? errno : undefined;
      },
    },
  });
  return sys;
}
function parseUkiSafe(b: Uint8Array): boolean {
  try {
    return parseUki(b) !== undefined;
  } catch {
    return false;
  }
}

async function run(sys: FakeSys, ...argv: string[]) {
  const io = captureIo();
  const status = await main(argv, { io, sys });
  return { status, ...io };
}

describe('UKI through kexec_file_load', () => {
  for (const errno of ['ENOEXEC', 'EINVAL']) {
    it(`on ${errno}, retries with the inner kernel, the .initrd and the .cmdline in memfds`, async () => {
      const sys = machine('x86_64', errno);
      const r = await run(sys, '-s', '-l', '/boot/uki.efi');
      assert.equal(r.status, 0, r.err);
      const calls = sys.callsOf('kexecFileLoad');
      assert.equal(calls.length, 2);
      assert.deepEqual(
        calls[0]!.args.slice(1),
        [-1, '', KEXEC_FILE_NO_INITRAMFS],
        'first: the file as it is',
      );
      const img = sys.images.normal!;
      assert.deepEqual(Buffer.from(img.kernel!), Buffer.from(KERNEL));
      assert.deepEqual(Buffer.from(img.initrd!), Buffer.from(INITRD));
      assert.equal(img.cmdline, 'lab.uki=1 console=ttyS0');
      assert.equal(img.flags & KEXEC_FILE_NO_INITRAMFS, 0);
      assert.deepEqual(
        sys.callsOf('memfdFromBytes').map((c) => c.args),
        [
          ['kernel', KERNEL.byteLength],
          ['initrd', INITRD.byteLength],
        ],
      );
    });
  }

  it('a given command line and --initrd win over .cmdline and .initrd', async () => {
    const sys = machine();
    const r = await run(sys, '-s', '-l', '/boot/uki.efi', '--append=quiet', '--initrd=/boot/other.img');
    assert.equal(r.status, 0, r.err);
    assert.equal(sys.images.normal?.cmdline, 'quiet');
    assert.equal(sys.callsOf('memfdFromBytes').length, 1, 'only the kernel goes to a memfd');
    const r2 = await run(machine(), '-s', '-l', '/boot/uki.efi', '--reuse-cmdline');
    assert.equal(r2.status, 0, r2.err);
  });

  it('takes the UKI as it is when the kernel accepts it (one call)', async () => {
    const sys = new FakeSys({ files: { '/boot/uki.efi': UKI } });
    assert.equal((await run(sys, '-s', '-l', '/boot/uki.efi')).status, 0);
    assert.equal(sys.callsOf('kexecFileLoad').length, 1);
    assert.deepEqual(Buffer.from(sys.images.normal!.kernel!), Buffer.from(UKI));
  });

  it('does not unwrap on EPERM', async () => {
    const sys = machine('x86_64', 'EPERM');
    const r = await run(sys, '-s', '-l', '/boot/uki.efi');
    assert.equal(r.status, 255);
    assert.equal(sys.callsOf('kexecFileLoad').length, 1);
  });
});

describe('zboot through kexec_file_load on arm64', () => {
  it('retries with the decompressed Image in a memfd', async () => {
    const image = Arm64ImageHeader.encode(
      { code0: 0x5a4d, image_size: 0x1000n, flags: 0xan, magic: 'ARM\x64' },
      new Uint8Array(0x1000),
    );
    const sys = machine('aarch64');
    sys.setFile('/boot/vmlinuz.efi', buildZboot(gzipSync(image), 'gzip'));
    const r = await run(sys, '-s', '-l', '/boot/vmlinuz.efi', '--append=root=/dev/vda');
    assert.equal(r.status, 0, r.err);
    assert.equal(sys.callsOf('kexecFileLoad').length, 2);
    assert.deepEqual(Buffer.from(sys.images.normal!.kernel!), Buffer.from(image));
    assert.equal(sys.images.normal!.cmdline, 'root=/dev/vda');
  });
});
