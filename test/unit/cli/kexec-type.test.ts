// -t / --type on the kexec_load path, against FakeSys: kexec-tools' my_load() messages and exit codes
// (kexec/kexec.c: -1 from my_load, exit 255), and no syscall when the forced type does not fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { X86_64_FILE_TYPES } from '../../../src/kexec/x86/file-types.js';
import type { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildVmlinux } from '../../helpers/build-elf.js';
import { q35Sys } from '../memory/q35-fixture.js';
import { syntheticBzImage } from '../x86/synthetic-bzimage.js';

const VMLINUX = buildVmlinux(
  [{ vaddr: 0xffffffff81000000n, paddr: 0x1000000n, filesz: 0x1000, memsz: 0x1000, fill: 0x90 }],
  0x1000000n,
);

/** Multiboot 0.6.96 §3.1.1: magic 0x1BADB002, flags, checksum making the sum 0, in the first 8 KiB. */
function multiboot(): Uint8Array {
  const b = new Uint8Array(0x2000);
  const dv = new DataView(b.buffer);
  dv.setUint32(0x40, 0x1badb002, true);
  dv.setUint32(0x44, 0, true);
  dv.setUint32(0x48, (0x100000000 - 0x1badb002) >>> 0, true);
  return b;
}

function machine(): FakeSys {
  const sys = q35Sys();
  sys.setFile('/boot/vmlinuz', syntheticBzImage());
  sys.setFile('/boot/vmlinux', VMLINUX);
  sys.setFile('/boot/mb.elf', multiboot());
  return sys;
}

async function run(sys: FakeSys, ...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, { sys, io });
  const loads = sys.calls
    .filter((c) => c.name === 'kexecLoad' || c.name === 'kexecFileLoad')
    .map((c) => c.name);
  return { code, err: io.err, loads };
}

describe('-t TYPE on the kexec_load path', () => {
  it('the x86_64 type names are kexec-tools file_type[] in its probe order', () => {
    assert.deepEqual(
      X86_64_FILE_TYPES.map((t) => t.name),
      [
        'multiboot2-x86',
        'elf-x86_64',
        'multiboot-x86',
        'elf-x86',
        'bzImage64',
        'bzImage',
        'beoboot-x86',
        'nbi-x86',
        'uki',
      ],
    );
  });

  it('an unknown name: "Unsupported kernel type", exit 255, no syscall', async () => {
    const r = await run(machine(), '-c', '-t', 'bogus', '-l', '/boot/vmlinuz');
    assert.equal(r.code, 255);
    assert.match(r.err, /Unsupported kernel type bogus/);
    assert.deepEqual(r.loads, []);
  });

  it('a type whose probe rejects the file: "Wrong file type T, file matches type U", exit 255', async () => {
    const a = await run(machine(), '-c', '--type=elf-x86_64', '-l', '/boot/vmlinuz');
    assert.equal(a.code, 255);
    assert.match(a.err, /Wrong file type elf-x86_64, file matches type bzImage64/);
    assert.deepEqual(a.loads, []);
    const b = await run(machine(), '-c', '-t', 'bzImage64', '-l', '/boot/vmlinux');
    assert.equal(b.code, 255);
    assert.match(b.err, /Wrong file type bzImage64, file matches type elf-x86_64/);
    assert.deepEqual(b.loads, []);
  });

  it('a type that matches but that kexec-ts does not load: a clear error, exit 1, no syscall', async () => {
    const mb = await run(machine(), '-c', '-t', 'multiboot-x86', '-l', '/boot/mb.elf');
    assert.equal(mb.code, 1);
    assert.match(mb.err, /has no multiboot-x86 loader/);
    assert.match(mb.err, /multiboot images are not loaded by kexec-ts/);
    assert.deepEqual(mb.loads, []);
    // The 32-bit bzImage probe accepts a 64-bit bzImage too (kexec-tools' bzImage_probe).
    const bz = await run(machine(), '-c', '-t', 'bzImage', '-l', '/boot/vmlinuz');
    assert.equal(bz.code, 1);
    assert.match(bz.err, /has no bzImage loader/);
    assert.deepEqual(bz.loads, []);
  });

  it('the matching type loads: bzImage64 and elf-x86_64', async () => {
    const sys = machine();
    const a = await run(sys, '-c', '-t', 'bzImage64', '-l', '/boot/vmlinuz');
    assert.equal(a.code, 0, a.err);
    assert.deepEqual(a.loads, ['kexecLoad']);
    const b = await run(sys, '-c', '-t', 'elf-x86_64', '-l', '/boot/vmlinux', '-d');
    assert.equal(b.code, 0, b.err);
    assert.deepEqual(b.loads, ['kexecLoad', 'kexecLoad']);
    assert.match(b.err, /loaded \/boot\/vmlinux \(elf-x86_64\) with kexec_load/);
    assert.match(b.err, /kernel 64-bit entry 0x1000000,/);
  });

  it('is ignored by kexec_file_load, as in kexec-tools (the default mode loads the bzImage by file)', async () => {
    const r = await run(machine(), '-t', 'elf-x86_64', '-l', '/boot/vmlinuz');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.loads, ['kexecFileLoad']);
  });
});
