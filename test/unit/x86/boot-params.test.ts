import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import {
  BOOT_PARAMS_SIZE,
  BootParams,
  E820_ENTRY_SIZE,
  E820Entry,
  SETUP_E820_EXT,
  SETUP_RNG_SEED,
  SetupDataHeader,
} from '../../../src/kexec/x86/boot-params.js';
import { decodeSetupData, encodeE820, encodeSetupData } from '../../../src/kexec/x86/setup-data.js';
import { range } from '../../../src/range.js';

describe('struct boot_params table', () => {
  it('has the documented offsets (zero-page.rst, bootparam.h)', () => {
    const f = BootParams.fields;
    const want: Array<[keyof typeof f, number, number]> = [
      ['screen_info', 0x000, 0x40],
      ['apm_bios_info', 0x040, 0x14],
      ['tboot_addr', 0x058, 8],
      ['ist_info', 0x060, 0x10],
      ['acpi_rsdp_addr', 0x070, 8],
      ['hd0_info', 0x080, 0x10],
      ['hd1_info', 0x090, 0x10],
      ['sys_desc_table', 0x0a0, 0x10],
      ['olpc_ofw_header', 0x0b0, 0x10],
      ['ext_ramdisk_image', 0x0c0, 4],
      ['ext_ramdisk_size', 0x0c4, 4],
      ['ext_cmd_line_ptr', 0x0c8, 4],
      ['cc_blob_address', 0x13c, 4],
      ['edid_info', 0x140, 0x80],
      ['efi_loader_signature', 0x1c0, 4],
      ['efi_memmap_hi', 0x1dc, 4],
      ['alt_mem_k', 0x1e0, 4],
      ['scratch', 0x1e4, 4],
      ['e820_entries', 0x1e8, 1],
      ['eddbuf_entries', 0x1e9, 1],
      ['edd_mbr_sig_buf_entries', 0x1ea, 1],
      ['kbd_status', 0x1eb, 1],
      ['secure_boot', 0x1ec, 1],
      ['sentinel', 0x1ef, 1],
      ['hdr', 0x1f1, 0x7b],
      ['edd_mbr_sig_buffer', 0x290, 0x40],
      ['e820_table', 0x2d0, 0xa00],
      ['eddbuf', 0xd00, 0x1ec],
    ];
    for (const [name, offset, size] of want) {
      assert.equal(f[name].offset, offset, `${name} offset`);
      assert.equal(f[name].size, size, `${name} size`);
    }
    assert.equal(BootParams.size, BOOT_PARAMS_SIZE);
  });
  it('shares absolute offsets with the setup header table', () => {
    assert.equal(SetupHeader.fields.setup_sects.offset, 0x1f1);
    assert.equal(SetupHeader.fields.cmd_line_ptr.offset, 0x228);
    assert.equal(SetupHeader.fields.kernel_info_offset.offset + 4, 0x1f1 + BootParams.fields.hdr.size);
  });
  it('round-trips through encode/decode, with the bytes where documented', () => {
    const zp = BootParams.encode({
      acpi_rsdp_addr: 0x7fbe0014n,
      ext_cmd_line_ptr: 1,
      e820_entries: 7,
      alt_mem_k: 0x1ffb80,
      e820_table: E820Entry.encode({ addr: 0x100000n, size: 0x7fee0000n, type: 1 }, new Uint8Array(0xa00)),
    });
    SetupHeader.encode({ setup_sects: 4, cmd_line_ptr: 0x7fbdf000 }, zp);
    assert.equal(zp.length, 0x1000);
    const view = new DataView(zp.buffer);
    assert.equal(view.getBigUint64(0x70, true), 0x7fbe0014n);
    assert.equal(view.getUint32(0xc8, true), 1);
    assert.equal(zp[0x1e8], 7);
    assert.equal(zp[0x1f1], 4);
    assert.equal(view.getUint32(0x228, true), 0x7fbdf000);
    assert.equal(view.getBigUint64(0x2d0, true), 0x100000n);
    assert.equal(view.getUint32(0x2d0 + 16, true), 1);
    const back = BootParams.decode(zp);
    assert.equal(back.acpi_rsdp_addr, 0x7fbe0014n);
    assert.equal(back.e820_entries, 7);
    assert.equal(back.alt_mem_k, 0x1ffb80);
    assert.deepEqual(BootParams.encode(back), zp);
  });
});

describe('e820 and setup_data', () => {
  it('puts 128 entries in the zero page and the rest in SETUP_E820_EXT', () => {
    const ranges = Array.from({ length: 130 }, (_, i) => ({
      ...range(BigInt(i) * 0x200000n, BigInt(i) * 0x200000n + 0x100000n),
      type: i % 2 ? ('reserved' as const) : ('ram' as const),
    }));
    const e = encodeE820(ranges);
    assert.equal(e.entries, 128);
    assert.equal(e.table.length, 128 * E820_ENTRY_SIZE);
    assert.deepEqual(E820Entry.decode(e.table, 127 * E820_ENTRY_SIZE), {
      addr: 127n * 0x200000n,
      size: 0x100000n,
      type: 2,
    });
    assert.equal(e.ext?.length, 2 * E820_ENTRY_SIZE);
    assert.deepEqual(E820Entry.decode(e.ext!, E820_ENTRY_SIZE), {
      addr: 129n * 0x200000n,
      size: 0x100000n,
      type: 2,
    });
    assert.equal(encodeE820(ranges.slice(0, 3)).ext, undefined);
  });
  it('links items in order, 8-byte aligned, the last with next = 0', () => {
    const seed = new Uint8Array(32).fill(0xab);
    const ext = new Uint8Array(20).fill(1);
    const chain = encodeSetupData(
      [
        { type: SETUP_E820_EXT, data: ext },
        { type: SETUP_RNG_SEED, data: seed },
      ],
      0x100000n,
    );
    assert.deepEqual(chain.addresses, [0x100000n, 0x100028n]);
    assert.equal(chain.bytes.length, 0x28 + 0x30);
    assert.deepEqual(SetupDataHeader.decode(chain.bytes, 0), {
      next: 0x100028n,
      type: SETUP_E820_EXT,
      len: 20,
    });
    assert.deepEqual(SetupDataHeader.decode(chain.bytes, 0x28), { next: 0n, type: SETUP_RNG_SEED, len: 32 });
    const items = decodeSetupData(chain.bytes, 0x100000n);
    assert.deepEqual(
      items.map((i) => [i.address, i.type, i.data.length]),
      [
        [0x100000n, 1, 20],
        [0x100028n, 9, 32],
      ],
    );
    assert.deepEqual(items[1]!.data, seed);
  });
});
