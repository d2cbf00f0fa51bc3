import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { segmentsDigest } from '../../../src/kexec/x86/digest.js';
import { planX86_64KexecLoad, runsFiveLevel } from '../../../src/kexec/x86/plan-from-sys.js';
import { captureIo } from '../../../src/sys/io.js';
import type { KexecSegment } from '../../../src/sys/types.js';
import { corruptingSys } from '../../helpers/corrupt-sys.js';
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

  it('corruptingSys (the lab test fault) flips one byte of the initrd segment in kexecLoad, after the digest', async () => {
    const sys = q35Sys();
    const initrd = new Uint8Array(8192).fill(3);
    sys.setFile('/boot/vmlinuz', syntheticBzImage());
    sys.setFile('/boot/initrd', initrd);
    const hit: number[] = [];
    const argv = ['-c', '-l', '/boot/vmlinuz', '--initrd=/boot/initrd', '--append=x'];
    assert.equal(
      await main(argv, { sys: corruptingSys(sys, initrd, (i) => hit.push(i)), io: captureIo() }),
      0,
    );
    const loaded = sys.images.normal!;
    const plan = planX86_64KexecLoad(q35Sys(), { ...req, initrd });
    const at = plan.layout.findIndex((l) => l.role === 'initrd');
    assert.deepEqual(hit, [at]);
    assert.equal(loaded.segments![at]!.buf[0], 3 ^ 0xff);
    assert.equal(loaded.segments![at]!.buf[1], 3);
    // The purgatory holds the digest of what was planned (initrd intact), not of what was loaded.
    const purgatory = Buffer.from(
      loaded.segments![plan.layout.findIndex((l) => l.role === 'purgatory')]!.buf,
    );
    const hashed = (segs: KexecSegment[]) =>
      Buffer.from(segmentsDigest(segs.filter((s) => s.mem !== loaded.entry)));
    const restored = loaded.segments!.map((s, i) => (i === at ? { ...s, buf: initrd } : s));
    assert.ok(purgatory.includes(hashed(restored)), 'the flipped byte is the only change');
    assert.ok(!purgatory.includes(hashed(loaded.segments!)));
    assert.equal(initrd[0], 3, "the caller's bytes are left alone");
  });
});
