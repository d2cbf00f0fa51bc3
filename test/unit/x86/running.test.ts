import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { BootParams } from '../../../src/kexec/x86/boot-params.js';
import { readInheritedBootParams, rsdpFromSystab } from '../../../src/kexec/x86/running.js';
import { FakeSys } from '../../../src/sys/fake.js';

describe('inheriting from the running kernel', () => {
  it('reads acpi_rsdp_addr, hardware_subarch and screen_info from /sys/kernel/boot_params/data', () => {
    const screen = new Uint8Array(0x40).fill(7);
    const data = BootParams.encode({ acpi_rsdp_addr: 0x7fb7e014n, screen_info: screen });
    SetupHeader.encode({ hardware_subarch: 0 }, data);
    const got = readInheritedBootParams(new FakeSys({ files: { '/sys/kernel/boot_params/data': data } }));
    assert.deepEqual(got, { acpiRsdpAddr: 0x7fb7e014n, hardwareSubarch: 0, screenInfo: screen });
  });
  it('falls back to ACPI20= in /sys/firmware/efi/systab', () => {
    const systab = 'SMBIOS3=0x7f8f0000\nACPI=0x7fb7e000\nACPI20=0x7fb7e014\n';
    assert.equal(rsdpFromSystab(systab), 0x7fb7e014n);
    assert.equal(rsdpFromSystab('ACPI=0xf5a40\n'), 0xf5a40n);
    const got = readInheritedBootParams(new FakeSys({ files: { '/sys/firmware/efi/systab': systab } }));
    assert.deepEqual(got, { acpiRsdpAddr: 0x7fb7e014n });
  });
  it('is empty when neither can be read', () => {
    assert.deepEqual(readInheritedBootParams(new FakeSys()), {});
  });
});
