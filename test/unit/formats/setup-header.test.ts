import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeSetupHeader,
  FIELD_SINCE,
  flagNames,
  formatProtocol,
  SetupHeader,
  XLOADFLAG_NAMES,
} from '../../../src/formats/bzimage/setup-header.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';

// The offset/size column of boot.rst "The Real-Mode Kernel Header", typed in by hand from the doc.
const DOC_TABLE: Record<string, [number, number]> = {
  setup_sects: [0x1f1, 1],
  root_flags: [0x1f2, 2],
  syssize: [0x1f4, 4],
  ram_size: [0x1f8, 2],
  vid_mode: [0x1fa, 2],
  root_dev: [0x1fc, 2],
  boot_flag: [0x1fe, 2],
  jump: [0x200, 2],
  header: [0x202, 4],
  version: [0x206, 2],
  realmode_swtch: [0x208, 4],
  start_sys_seg: [0x20c, 2],
  kernel_version: [0x20e, 2],
  type_of_loader: [0x210, 1],
  loadflags: [0x211, 1],
  setup_move_size: [0x212, 2],
  code32_start: [0x214, 4],
  ramdisk_image: [0x218, 4],
  ramdisk_size: [0x21c, 4],
  bootsect_kludge: [0x220, 4],
  heap_end_ptr: [0x224, 2],
  ext_loader_ver: [0x226, 1],
  ext_loader_type: [0x227, 1],
  cmd_line_ptr: [0x228, 4],
  initrd_addr_max: [0x22c, 4],
  kernel_alignment: [0x230, 4],
  relocatable_kernel: [0x234, 1],
  min_alignment: [0x235, 1],
  xloadflags: [0x236, 2],
  cmdline_size: [0x238, 4],
  hardware_subarch: [0x23c, 4],
  hardware_subarch_data: [0x240, 8],
  payload_offset: [0x248, 4],
  payload_length: [0x24c, 4],
  setup_data: [0x250, 8],
  pref_address: [0x258, 8],
  init_size: [0x260, 4],
  handover_offset: [0x264, 4],
  kernel_info_offset: [0x268, 4],
};

describe('setup_header table', () => {
  it('matches boot.rst offsets and sizes field by field', () => {
    assert.deepEqual(Object.keys(SetupHeader.fields).sort(), Object.keys(DOC_TABLE).sort());
    for (const [name, f] of Object.entries(SetupHeader.fields)) {
      assert.deepEqual([f.offset, f.size], DOC_TABLE[name], name);
    }
    assert.equal(SetupHeader.size, 0x26c);
  });

  it('round-trips through encode/decode', () => {
    const bytes = buildBzImage({ fields: { setup_data: 0x1234_5678_9abcn, handover_offset: 0x190 } });
    const h = SetupHeader.decode(bytes);
    const again = SetupHeader.encode(h, new Uint8Array(bytes.byteLength));
    assert.deepEqual(SetupHeader.decode(again), h);
    assert.equal(h.setup_data, 0x1234_5678_9abcn);
  });

  it('hides fields newer than the protocol', () => {
    const v = (version: number) => decodeSetupHeader(buildBzImage({ version })).fields;
    assert.equal(v(0x020b).xloadflags, undefined);
    assert.equal(v(0x020c).xloadflags, 3);
    assert.equal(v(0x0209).pref_address, undefined);
    assert.equal(v(0x020a).pref_address, 0x1000000n);
    assert.equal(v(0x020e).kernel_info_offset, undefined);
    assert.equal(v(0x0205).cmdline_size, undefined);
    assert.equal(v(0x0206).cmdline_size, 2047);
    for (const since of Object.values(FIELD_SINCE)) assert.ok(since === 0 || since >= 0x0200);
  });

  it('treats a file without "HdrS" as protocol "old": only ALL fields survive', () => {
    const bytes = buildBzImage({ fields: { header: 'XXXX' } });
    const { fields, protocol } = decodeSetupHeader(bytes);
    assert.equal(protocol, 0);
    assert.equal(fields.version, undefined);
    assert.equal(fields.boot_flag, 0xaa55);
  });

  it('names flags and protocols', () => {
    assert.deepEqual(flagNames(0x13, XLOADFLAG_NAMES), [
      'XLF_KERNEL_64',
      'XLF_CAN_BE_LOADED_ABOVE_4G',
      'XLF_EFI_KEXEC',
    ]);
    assert.deepEqual(flagNames(1 << 9, XLOADFLAG_NAMES), ['bit 9']);
    assert.equal(formatProtocol(0x020f), '2.15');
    assert.equal(formatProtocol(0x0204), '2.04');
  });
});
