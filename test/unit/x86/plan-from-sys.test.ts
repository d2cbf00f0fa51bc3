import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { segmentsDigest } from '../../../src/kexec/x86/digest.js';
import { CORRUPT_ENV, planX86_64KexecLoad, runsFiveLevel } from '../../../src/kexec/x86/plan-from-sys.js';
import { q35Sys } from '../memory/q35-fixture.js';
import { syntheticBzImage } from './synthetic-bzimage.js';

const req = { image: syntheticBzImage(), initrd: new Uint8Array(8192).fill(3), cmdline: 'x' };

describe('planX86_64KexecLoad', () => {
  it('without EFI says so in the plan', () => {
    const plan = planX86_64KexecLoad(q35Sys(), req);
    assert.equal(plan.efi, undefined);
    assert.match(plan.efiNote ?? '', /not an EFI boot/);
  });

  it('refuses an image without XLF_5LEVEL when the running kernel uses 5-level paging (la57)', () => {
    const sys = q35Sys();
    sys.setFile('/proc/cpuinfo', 'processor\t: 0\nflags\t\t: fpu sse2 la57 sha_ni\n');
    assert.equal(runsFiveLevel(sys), true);
    assert.ok(planX86_64KexecLoad(sys, req)); // the synthetic image has XLF_5LEVEL
    const img = syntheticBzImage();
    SetupHeader.encode({ xloadflags: 0x1f }, img);
    assert.throws(() => planX86_64KexecLoad(sys, { ...req, image: img }), /5-level paging/);
    sys.setFile('/proc/cpuinfo', 'flags\t\t: fpu sse2\n');
    assert.equal(runsFiveLevel(sys), false);
    assert.ok(planX86_64KexecLoad(sys, { ...req, image: img }));
  });

  it(`${CORRUPT_ENV} flips one byte of the named segment after the digest (lab test only)`, () => {
    process.env[CORRUPT_ENV] = 'initrd';
    try {
      const plan = planX86_64KexecLoad(q35Sys(), { ...req, initrd: new Uint8Array(8192).fill(3) });
      const hashed = plan.segments.filter((s) => s.mem !== plan.entry);
      assert.notDeepEqual(segmentsDigest(hashed), plan.purgatory.digest);
      const initrd = plan.segments[plan.layout.findIndex((l) => l.role === 'initrd')]!;
      assert.equal(initrd.buf[0], 3 ^ 0xff);
      assert.equal(initrd.buf[1], 3);
    } finally {
      delete process.env[CORRUPT_ENV];
    }
  });
});
