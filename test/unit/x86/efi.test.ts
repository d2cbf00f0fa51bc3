import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { BootParams, SETUP_EFI, SETUP_RNG_SEED } from '../../../src/kexec/x86/boot-params.js';
import { describePlan } from '../../../src/kexec/x86/bzimage64-load.js';
import {
  EFI_MEMDESC_SIZE,
  EfiMemoryDescriptor,
  EfiSetupData,
  readEfiHandoff,
} from '../../../src/kexec/x86/efi.js';
import { planX86_64KexecLoad } from '../../../src/kexec/x86/plan-from-sys.js';
import { decodeSetupData } from '../../../src/kexec/x86/setup-data.js';
import { OVMF_RUNTIME_MAP, OVMF_SYSTAB, ovmfSys } from './ovmf-fixture.js';
import { syntheticBzImage } from './synthetic-bzimage.js';

const SEED = new Uint8Array(32).fill(1);
// Large enough that, placed highest, it would cover the kept boot-services page at 0x7dc73000.
const INITRD = new Uint8Array(300 * 1024 * 1024);
const req = { image: syntheticBzImage(), initrd: INITRD, cmdline: 'console=ttyS0', rngSeed: SEED };

describe('EFI hand-off for kexec_load (OVMF q35 fixture)', () => {
  it('reads the system table, the physical pointers and the runtime map', () => {
    const r = readEfiHandoff(ovmfSys());
    assert.ok(r.ok);
    assert.equal(r.efi.systab, OVMF_SYSTAB);
    assert.equal(r.efi.fwVendor, 0x7f91c818n);
    assert.equal(r.efi.runtime, 0x7f9ecb98n);
    assert.equal(r.efi.configTable, 0x7f9ecc98n);
    assert.equal(r.efi.smbios, 0x7f918000n);
    assert.equal(r.efi.memdescVersion, 1);
    assert.deepEqual(
      r.efi.regions.map((x) => [x.type, x.physAddr, x.virtAddr, x.numPages, x.attribute]),
      OVMF_RUNTIME_MAP,
    );
  });

  it('says why there is no hand-off', () => {
    const reason = (sys: ReturnType<typeof ovmfSys>) => {
      const r = readEfiHandoff(sys);
      return r.ok ? '' : r.reason;
    };
    assert.match(reason(ovmfSys({ signature: 0x32334c45 })), /not booted by 64-bit EFI/);
    assert.match(reason(ovmfSys({ runtimeMap: false })), /runtime-map missing/);
  });

  it('fills efi_info, a SETUP_EFI item and a 40-byte-descriptor memory map', () => {
    const plan = planX86_64KexecLoad(ovmfSys(), req);
    assert.ok(plan.efi);
    const zp = plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf;
    const bp = BootParams.decode(zp);
    assert.equal(bp.efi_loader_signature, 0x34364c45); // "EL64"
    assert.equal(bp.efi_systab, Number(OVMF_SYSTAB));
    assert.equal(bp.efi_systab_hi, 0);
    assert.equal(bp.efi_memdesc_size, EFI_MEMDESC_SIZE);
    assert.equal(bp.efi_memdesc_version, 1);
    assert.equal(bp.efi_memmap_size, OVMF_RUNTIME_MAP.length * EFI_MEMDESC_SIZE);
    assert.equal(BigInt(bp.efi_memmap), plan.efi.memmap);
    assert.equal(bp.acpi_rsdp_addr, 0x7fb7e014n);

    const sdSeg = plan.segments.find((s) => s.mem === SetupHeader.decode(zp).setup_data)!;
    const items = decodeSetupData(sdSeg.buf, sdSeg.mem);
    assert.deepEqual(
      items.map((i) => i.type),
      [SETUP_RNG_SEED, SETUP_EFI],
    );
    assert.deepEqual(EfiSetupData.decode(items[1]!.data), {
      fw_vendor: 0x7f91c818n,
      unused: 0x7f9ecb98n,
      tables: 0x7f9ecc98n,
      smbios: 0x7f918000n,
    });
    assert.equal(items[1]!.data.length, 96);
    const at = Number(plan.efi.memmap - sdSeg.mem);
    assert.equal(at % 8, 0);
    const descs = OVMF_RUNTIME_MAP.map((_, i) => EfiMemoryDescriptor.decode(sdSeg.buf, at + i * 40));
    assert.deepEqual(descs[4], {
      type: 4,
      phys_addr: 0x7dc73000n,
      virt_addr: 0xfffffffefdc73000n,
      num_pages: 1n,
      attribute: 0x800000000000000fn,
    });
    assert.match(describePlan(plan).at(-1)!, /^efi: systab 0x7f9ec018, 5 runtime regions, memmap 0x1/);
  });

  it('places no segment over a runtime region, even one the e820 calls RAM', () => {
    const plan = planX86_64KexecLoad(ovmfSys(), req);
    for (const s of plan.segments) {
      for (const [, phys, , pages] of OVMF_RUNTIME_MAP) {
        const end = phys + pages * 4096n;
        assert.ok(
          s.mem + s.memsz <= phys || s.mem >= end,
          `segment ${s.mem.toString(16)} overlaps ${phys.toString(16)}`,
        );
      }
    }
    const initrd = plan.layout.find((l) => l.role === 'initrd')!;
    assert.equal(initrd.mem + initrd.memsz, 0x7dc73000n); // right below the kept page
  });

  it('leaves efi_info zero without the hand-off, and says why in -d', () => {
    const off = planX86_64KexecLoad(ovmfSys(), { ...req, efi: false });
    assert.equal(off.efi, undefined);
    assert.match(describePlan(off).at(-1)!, /^efi: none \(disabled\)/);
    const img = syntheticBzImage();
    SetupHeader.encode({ xloadflags: 0x0f }, img); // no XLF_EFI_KEXEC
    const old = planX86_64KexecLoad(ovmfSys(), { ...req, image: img });
    assert.equal(old.efi, undefined);
    assert.match(describePlan(old).at(-1)!, /lacks XLF_EFI_KEXEC/);
    const zp = old.segments.find((s) => s.mem === old.bootParams.mem)!.buf;
    assert.equal(BootParams.decode(zp).efi_loader_signature, 0);
  });
});
