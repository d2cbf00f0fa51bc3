import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { segmentsDigest } from '../../../src/kexec/x86/digest.js';
import { CORRUPT_ENV, planX86_64KexecLoad } from '../../../src/kexec/x86/plan-from-sys.js';
import { q35Sys } from '../memory/q35-fixture.js';
import { syntheticBzImage } from './synthetic-bzimage.js';

const req = { image: syntheticBzImage(), initrd: new Uint8Array(8192).fill(3), cmdline: 'x' };

describe('planX86_64KexecLoad', () => {
  it('without EFI says so in the plan', () => {
    const plan = planX86_64KexecLoad(q35Sys(), req);
    assert.equal(plan.efi, undefined);
    assert.match(plan.efiNote ?? '', /not an EFI boot/);
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
