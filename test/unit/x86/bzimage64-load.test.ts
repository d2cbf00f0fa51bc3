import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileError, FormatError, LayoutError, UsageError } from '../../../src/errors.js';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { readMemoryMap } from '../../../src/kexec/memory/memmap.js';
import { BootParams, E820Entry, SETUP_RNG_SEED } from '../../../src/kexec/x86/boot-params.js';
import { describePlan, planBzImage64Load } from '../../../src/kexec/x86/bzimage64-load.js';
import { segmentsDigest } from '../../../src/kexec/x86/digest.js';
import { planX86_64KexecLoad } from '../../../src/kexec/x86/plan-from-sys.js';
import { decodeSetupData } from '../../../src/kexec/x86/setup-data.js';
import { PurgatoryHeader } from '../../../src/purgatory/x86_64-header.js';
import { KEXEC_ARCH_X86_64 } from '../../../src/sys/types.js';
import { q35Sys } from '../memory/q35-fixture.js';
import { PM_SIZE, syntheticBzImage } from './synthetic-bzimage.js';

const memmap = readMemoryMap(q35Sys());
const INITRD = new Uint8Array(4 * 1024 * 1024).fill(0x5a);
const CMDLINE = 'console=ttyS0,115200 root=/dev/ram0 rdinit=/init';
const SEED = new Uint8Array(32).map((_, i) => i);
const base = { image: syntheticBzImage(), initrd: INITRD, cmdline: CMDLINE, memmap, rngSeed: SEED };

describe('planBzImage64Load on a q35 2 GiB guest (crash kernel 0x70000000-0x77ffffff reserved)', () => {
  const plan = planBzImage64Load(base);

  it('lays the segments out exactly', () => {
    assert.deepEqual(
      plan.layout.map((l) => [l.role, l.mem, l.memsz, l.bufsz]),
      [
        ['setup_data', 0x100000n, 0x1000n, 48], // RNG seed: 16-byte header + 32 bytes, lowest from 1 MiB
        ['kernel', 0x1000000n, 0x1800000n, PM_SIZE], // pref_address, 2 MiB aligned, init_size reserved
        ['purgatory', 0x7fbd9000n, 0x5000n, 10128], // highest below 4 GiB, bytes + .bss stack
        ['boot_params', 0x7fbde000n, 0x2000n, 0x1000 + CMDLINE.length + 1], // zero page + command line
        ['initrd', 0x7fbe0000n, 0x400000n, INITRD.length], // highest, above the crash region
      ],
    );
    assert.equal(plan.entry, 0x7fbd9000n);
    assert.equal(plan.flags, KEXEC_ARCH_X86_64);
    assert.equal(plan.kernel.entry64, 0x1000200n);
    assert.deepEqual(describePlan(plan)[2], 'kernel      0x1000000-0x27fffff memsz 0x1800000 bufsz 0x300000');
  });

  it('fills boot_params: loader fields, command line, initrd, e820, setup_data', () => {
    const zp = plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf;
    const hdr = SetupHeader.decode(zp);
    const bp = BootParams.decode(zp);
    assert.equal(hdr.type_of_loader, 0xff);
    assert.equal(hdr.loadflags, 0x01); // LOADED_HIGH only
    assert.equal(hdr.cmd_line_ptr, 0x7fbdf000);
    assert.equal(bp.ext_cmd_line_ptr, 0);
    assert.equal(Buffer.from(zp.subarray(0x1000)).toString('latin1'), `${CMDLINE}\0`);
    assert.equal(hdr.ramdisk_image, 0x7fbe0000);
    assert.equal(hdr.ramdisk_size, INITRD.length);
    assert.equal(bp.ext_ramdisk_image, 0);
    assert.equal(hdr.setup_data, 0x100000n);
    assert.equal(hdr.version, 0x020f); // copied from the image
    assert.equal(hdr.init_size, 0x1800000);
    assert.equal(bp.sentinel, 0); // not copied
    assert.equal(bp.e820_entries, 8);
    assert.deepEqual(E820Entry.decode(bp.e820_table, 3 * 20), {
      addr: 0x100000n,
      size: 0x7fee0000n,
      type: 1,
    });
    assert.deepEqual(E820Entry.decode(bp.e820_table, 0), { addr: 0x400n, size: 0x9f800n, type: 1 });
    assert.equal(bp.alt_mem_k, (0x7ffe0000 - 0x100000) / 1024);
    assert.equal(bp.screen_info[0x07], 80); // orig_video_cols
    const sd = plan.segments.find((s) => s.mem === 0x100000n)!.buf;
    const items = decodeSetupData(sd, 0x100000n);
    assert.deepEqual(
      items.map((i) => i.type),
      [SETUP_RNG_SEED],
    );
    assert.deepEqual(items[0]!.data, SEED);
  });

  it('patches the purgatory: entry registers, regions, digest over the other segments', () => {
    const purg = plan.segments.find((s) => s.mem === plan.entry)!.buf;
    const h = PurgatoryHeader.decode(purg);
    assert.equal(h.entry_rip, 0x1000200n);
    assert.equal(h.entry_rsi, 0x7fbde000n);
    assert.equal(h.entry_rsp, 0n);
    assert.equal(h.skip_checks, 0);
    assert.equal(h.serial_port, 0x3f8);
    const others = plan.segments.filter((s) => s.mem !== plan.entry);
    const view = new DataView(h.regions.buffer);
    others.forEach((s, i) => {
      assert.equal(view.getBigUint64(i * 16, true), s.mem);
      assert.equal(view.getBigUint64(i * 16 + 8, true), s.memsz);
    });
    assert.equal(view.getBigUint64(others.length * 16 + 8, true), 0n);
    assert.deepEqual(h.expected_digest, segmentsDigest(others));
    assert.deepEqual(plan.purgatory.digest, h.expected_digest);
  });

  it('is what FakeSys.kexecLoad records', () => {
    const sys = q35Sys();
    sys.kexecLoad(plan.entry, plan.segments, plan.flags);
    const image = sys.images.normal!;
    assert.equal(image.via, 'kexec_load');
    assert.equal(image.entry, 0x7fbd9000n);
    assert.equal(image.flags, 0x3e0000);
    assert.deepEqual(
      image.segments!.map((s) => [s.mem, s.memsz]),
      plan.segments.map((s) => [s.mem, s.memsz]),
    );
    assert.equal(sys.readText('/sys/kernel/kexec_loaded'), '1\n');
  });
});

describe('planBzImage64Load variations', () => {
  it('-i sets skip_checks and, as kexec-tools, computes no digest', () => {
    const plan = planBzImage64Load({ ...base, noChecks: true });
    const h = PurgatoryHeader.decode(plan.segments.find((s) => s.mem === plan.entry)!.buf);
    assert.equal(h.skip_checks, 1);
    assert.deepEqual(h.expected_digest, new Uint8Array(32));
    assert.deepEqual(plan.purgatory.digest, new Uint8Array(32));
  });
  it('without XLF_CAN_BE_LOADED_ABOVE_4G keeps the initrd under initrd_addr_max', () => {
    const image = syntheticBzImage({ xloadflags: 0x01, initrd_addr_max: 0x37ffffff });
    const plan = planBzImage64Load({ ...base, image });
    assert.equal(plan.layout.find((l) => l.role === 'initrd')!.mem, 0x37c00000n);
  });
  it('--mem-min/--mem-max confine every segment', () => {
    const plan = planBzImage64Load({ ...base, memMin: 0x10000000n, memMax: 0x1fffffffn });
    for (const l of plan.layout) assert.ok(l.mem >= 0x10000000n && l.mem + l.memsz <= 0x20000000n, l.role);
    assert.equal(plan.kernel.mem, 0x10000000n);
  });
  it('a non-relocatable kernel goes exactly at pref_address', () => {
    const plan = planBzImage64Load({ ...base, image: syntheticBzImage({ relocatable_kernel: 0 }) });
    assert.equal(plan.kernel.mem, 0x1000000n);
  });
  it('no initrd: ramdisk fields zero; no seed: no setup_data segment', () => {
    const plan = planBzImage64Load({ ...base, initrd: undefined, rngSeed: false });
    assert.deepEqual(
      plan.layout.map((l) => l.role),
      ['kernel', 'purgatory', 'boot_params'],
    );
    const hdr = SetupHeader.decode(plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf);
    assert.equal(hdr.ramdisk_image, 0);
    assert.equal(hdr.setup_data, 0n);
  });
  it('a random seed by default', () => {
    const a = planBzImage64Load({ ...base, rngSeed: undefined });
    const b = planBzImage64Load({ ...base, rngSeed: undefined });
    assert.notDeepEqual(a.segments[0]!.buf, b.segments[0]!.buf);
  });
  it('refuses what cannot boot through the 64-bit entry', () => {
    assert.throws(
      () => planBzImage64Load({ ...base, image: syntheticBzImage({ version: 0x020b }) }),
      FormatError,
    );
    assert.throws(
      () => planBzImage64Load({ ...base, image: syntheticBzImage({ xloadflags: 0x7e }) }),
      FormatError,
    );
    assert.throws(
      () => planBzImage64Load({ ...base, image: syntheticBzImage({ boot_flag: 0 }) }),
      FormatError,
    );
    assert.throws(
      () =>
        planBzImage64Load({ ...base, image: syntheticBzImage({ xloadflags: 0x1f }), fiveLevelPaging: true }),
      /XLF_5LEVEL/,
    );
    assert.throws(() => planBzImage64Load({ ...base, cmdline: 'x'.repeat(0x800) }), UsageError);
  });
  it('a LayoutError names the size when the initrd cannot fit', () => {
    assert.throws(
      () => planBzImage64Load({ ...base, memMin: 0x1000000n, memMax: 0x2afffffn }),
      (e: unknown) =>
        e instanceof LayoutError &&
        /no free memory for 0x400000 bytes .* free ranges there: 0x2800000-0x2afffff$/.test(e.message),
    );
  });
});

describe('planX86_64KexecLoad (reads the machine through Sys)', () => {
  it('plans from /sys/firmware/memmap and loads through FakeSys', () => {
    const sys = q35Sys();
    sys.setText('/sys/firmware/efi/systab', 'ACPI20=0x7fb7e014\n');
    const plan = planX86_64KexecLoad(sys, { image: syntheticBzImage(), cmdline: CMDLINE, rngSeed: SEED });
    const zp = plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf;
    assert.equal(BootParams.decode(zp).acpi_rsdp_addr, 0x7fb7e014n);
    sys.kexecLoad(plan.entry, plan.segments, plan.flags);
    assert.equal(sys.callsOf('kexecLoad').length, 1);
    // A crash load needs the kernel layout from /proc/kcore, which this fixture lacks (test/unit/kexec/crash-load).
    assert.throws(
      () => planX86_64KexecLoad(q35Sys(), { image: syntheticBzImage(), cmdline: '', crash: true }),
      FileError,
    );
  });
});
