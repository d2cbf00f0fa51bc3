// --noefi (kexec-tools x86 option): the kexec_load path gives the new kernel no EFI hand-off. Checked on
// the OVMF fixture, where the hand-off is otherwise made: boot_params' efi_loader_signature is "EL64"
// without the option and 0 with it (zero-page.rst 0x1c0 efi_info).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { BootParams } from '../../../src/kexec/x86/boot-params.js';
import { EFI64_LOADER_SIGNATURE } from '../../../src/kexec/x86/efi.js';
import { captureIo } from '../../../src/sys/io.js';
import type { KexecSegment } from '../../../src/sys/types.js';
import { ovmfSys } from '../x86/ovmf-fixture.js';
import { syntheticBzImage } from '../x86/synthetic-bzimage.js';

async function signatureAfter(...argv: string[]): Promise<{ code: number; sig: number; err: string }> {
  const sys = ovmfSys();
  sys.setFile('/boot/vmlinuz', syntheticBzImage());
  const io = captureIo();
  const code = await main(argv, { sys, io });
  const call = sys.calls.find((c) => c.name === 'kexecLoad');
  assert.ok(call, `no kexec_load call: ${io.err}`);
  const segments = call.args[1] as readonly KexecSegment[];
  // boot_params is the one segment that decodes with the "HdrS" magic at 0x202.
  const hdrS = (b: Uint8Array) =>
    b.length >= 0x1000 && Buffer.from(b.subarray(0x202, 0x206)).toString() === 'HdrS';
  const zp = segments.find((s) => hdrS(s.buf));
  assert.ok(zp, 'no boot_params segment');
  return { code, sig: BootParams.decode(zp.buf).efi_loader_signature, err: io.err };
}

describe('--noefi', () => {
  it('the EFI hand-off is made by default and left out with --noefi', async () => {
    const on = await signatureAfter('-c', '-l', '/boot/vmlinuz', '--append=x');
    assert.equal(on.code, 0, on.err);
    assert.equal(on.sig, EFI64_LOADER_SIGNATURE);
    const off = await signatureAfter('-c', '--noefi', '-l', '/boot/vmlinuz', '--append=x');
    assert.equal(off.code, 0, off.err);
    assert.equal(off.sig, 0);
  });
});
