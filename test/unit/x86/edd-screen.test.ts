// boot_params EDD fields from a fake /sys/firmware/edd, and screen_info from a fake /dev/fb0, through
// planX86_64KexecLoad. Offsets: zero-page.rst (eddbuf_entries 0x1e9, edd_mbr_sig_buf_entries 0x1ea,
// edd_mbr_sig_buffer 0x290, eddbuf 0xd00); struct edd_info and struct screen_info as in the uapi headers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BOOT_PARAMS_SIZE, ScreenInfo } from '../../../src/kexec/x86/boot-params.js';
import { EDD_INFO_SIZE, readEdd } from '../../../src/kexec/x86/edd.js';
import { planX86_64KexecLoad } from '../../../src/kexec/x86/plan-from-sys.js';
import {
  FBIOGET_FSCREENINFO,
  FBIOGET_VSCREENINFO,
  FbFixScreeninfo,
  FbVarScreeninfo,
} from '../../../src/kexec/x86/screen-info.js';
import { FakeSys as Fake, type FakeSys } from '../../../src/sys/fake.js';
import { Q35_2G_IOMEM, q35Sys } from '../memory/q35-fixture.js';
import { syntheticBzImage } from './synthetic-bzimage.js';

const req = { image: syntheticBzImage(), cmdline: 'x', rngSeed: false as const };
const zeroPage = (sys: FakeSys) => {
  const plan = planX86_64KexecLoad(sys, req);
  return { zp: plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf, plan };
};
const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

/** What drivers/firmware/edd.c shows for a disk with EDD 3.0 and for a drive with version 0. */
function eddSys(raw: Uint8Array): FakeSys {
  const sys = q35Sys();
  const d = '/sys/firmware/edd/int13_dev80';
  sys.setText(`${d}/version`, '0x30\n');
  sys.setText(`${d}/mbr_signature`, '0x12345678\n');
  sys.setText(`${d}/legacy_max_cylinder`, '1023\n');
  sys.setText(`${d}/legacy_max_head`, '15\n');
  sys.setText(`${d}/legacy_sectors_per_track`, '63\n');
  sys.setText(`${d}/extensions`, 'Fixed disk access\nEnhanced Disk Drive support\n');
  sys.setFile(`${d}/raw_data`, raw);
  sys.setText('/sys/firmware/edd/int13_dev81/version', '0x00\n');
  return sys;
}
/** struct edd_device_params as int 0x13 AH=48h returns it: u16 length (0x42 for EDD 3.0) first. */
const RAW = new Uint8Array(0x42).map((_, i) => (i === 0 ? 0x42 : i === 1 ? 0 : i));

describe('EDD from /sys/firmware/edd', () => {
  it('fills eddbuf, edd_mbr_sig_buffer and both counts', () => {
    const { zp, plan } = zeroPage(eddSys(RAW));
    assert.equal(zp[0x1e9], 2); // eddbuf_entries
    assert.equal(zp[0x1ea], 1); // edd_mbr_sig_buf_entries
    assert.equal(u32(zp, 0x290), 0x12345678);
    assert.equal(u32(zp, 0x294), 0);
    const e0 = 0xd00;
    assert.deepEqual([zp[e0], zp[e0 + 1]], [0x80, 0x30]); // device, version
    assert.equal(u16(zp, e0 + 2), 0b101); // FIXED_DISK_ACCESS | ENHANCED_DISK_DRIVE_SUPPORT
    assert.equal(u16(zp, e0 + 4), 1023);
    assert.deepEqual([zp[e0 + 6], zp[e0 + 7]], [15, 63]);
    assert.deepEqual(zp.subarray(e0 + 8, e0 + 8 + RAW.length), RAW);
    assert.ok(zp.subarray(e0 + 8 + RAW.length, e0 + EDD_INFO_SIZE).every((b) => b === 0));
    const e1 = e0 + EDD_INFO_SIZE; // 82 bytes per struct edd_info
    assert.deepEqual([...zp.subarray(e1, e1 + 8)], [0x81, 0, 0, 0, 0, 0, 0, 0]);
    assert.ok(plan.notes?.includes('edd: 2 drives, 1 MBR signatures'));
  });

  it('drops all of it when raw_data is shorter than its own length field, or the directory is absent', () => {
    const short = readEdd(eddSys(RAW.subarray(0, 0x20)));
    assert.equal(short.ok, false);
    const { zp } = zeroPage(eddSys(RAW.subarray(0, 0x20)));
    assert.deepEqual([zp[0x1e9], zp[0x1ea], zp[0xd00]], [0, 0, 0]);
    const none = zeroPage(q35Sys());
    assert.deepEqual([none.zp[0x1e9], none.zp[0x1ea]], [0, 0]);
    assert.match(none.plan.notes?.join('\n') ?? '', /edd: none \(no \/sys\/firmware\/edd/);
  });
});

/** /dev/fb0 answering both ioctls, as efifb/vesafb/simplefb fill them (drivers/video/fbdev). */
function fbSys(id: string, smemStart: bigint, running?: Uint8Array): FakeSys {
  const fix = FbFixScreeninfo.encode(
    {
      id: Buffer.from(id.padEnd(16, '\0'), 'latin1'),
      smem_start: smemStart,
      smem_len: 0x300000,
      line_length: 4096,
    },
    new Uint8Array(80),
  );
  const v = FbVarScreeninfo.encode(
    {
      xres: 1024,
      yres: 768,
      bits_per_pixel: 32,
      red_offset: 16,
      red_length: 8,
      green_offset: 8,
      green_length: 8,
      blue_offset: 0,
      blue_length: 8,
      transp_offset: 24,
      transp_length: 8,
    },
    new Uint8Array(160),
  );
  const files: Record<string, string | Uint8Array> = { '/proc/iomem': Q35_2G_IOMEM };
  if (running) files['/sys/kernel/boot_params/data'] = running;
  return new Fake({
    files,
    ioctls: { '/dev/fb0': { [FBIOGET_FSCREENINFO]: fix, [FBIOGET_VSCREENINFO]: v } },
  });
}

function runningBootParams(isVGA: number): Uint8Array {
  const bp = new Uint8Array(BOOT_PARAMS_SIZE);
  ScreenInfo.encode({ orig_video_isVGA: isVGA, orig_video_cols: 132, lfb_width: 640 }, bp);
  return bp;
}

describe('screen_info from /dev/fb0', () => {
  it('"EFI VGA": VIDEO_TYPE_EFI and the mode of FBIOGET_FSCREENINFO/VSCREENINFO', () => {
    const { zp, plan } = zeroPage(fbSys('EFI VGA', 0x80000000n));
    const si = ScreenInfo.decode(zp);
    assert.equal(si.orig_video_isVGA, 0x70);
    assert.deepEqual(
      [si.lfb_width, si.lfb_height, si.lfb_depth, si.lfb_base, si.lfb_linelength],
      [1024, 768, 32, 0x80000000, 4096],
    );
    assert.equal(si.lfb_size, 0x300000); // efifb: bytes (efifb.c size_total = lfb_size)
    assert.equal(si.pages, 1); // one display page, as the EFI stub writes
    assert.deepEqual(
      [
        si.red_pos,
        si.red_size,
        si.green_pos,
        si.green_size,
        si.blue_pos,
        si.blue_size,
        si.rsvd_pos,
        si.rsvd_size,
      ],
      [16, 8, 8, 8, 0, 8, 24, 8],
    );
    assert.deepEqual([si.ext_lfb_base, si.capabilities], [0, 0]);
    assert.deepEqual([si.orig_video_cols, si.orig_video_lines], [80, 25]);
    assert.ok(plan.notes?.some((n) => n.includes('"EFI VGA" 1024x768x32 at 0x80000000')));
    const calls = fbSys('EFI VGA', 0x80000000n);
    planX86_64KexecLoad(calls, req);
    assert.deepEqual(
      calls.callsOf('ioctlRead').map((c) => c.args),
      [
        ['/dev/fb0', 0x4602, 80],
        ['/dev/fb0', 0x4600, 160],
      ],
    );
  });

  it('"VESA VGA" above 4 GiB: VIDEO_TYPE_VLFB, ext_lfb_base and VIDEO_CAPABILITY_64BIT_BASE', () => {
    const si = ScreenInfo.decode(zeroPage(fbSys('VESA VGA', 0x8_0000_0000n)).zp);
    assert.equal(si.orig_video_isVGA, 0x23);
    assert.deepEqual([si.lfb_base, si.ext_lfb_base, si.capabilities], [0, 8, 2]);
    assert.equal(si.lfb_size, 48); // vesafb: 3 MiB in 64 KiB units (vesafb.c lfb_size * 65536)
  });

  it('"simple" takes the type from the running screen_info; another driver gets no firmware console', () => {
    const simple = ScreenInfo.decode(zeroPage(fbSys('simple', 0x80000000n, runningBootParams(0x70))).zp);
    assert.deepEqual([simple.orig_video_isVGA, simple.lfb_width], [0x70, 1024]);
    const drm = ScreenInfo.decode(zeroPage(fbSys('bochs-drmdrmfb', 0x80000000n, runningBootParams(0x70))).zp);
    assert.deepEqual([drm.orig_video_isVGA, drm.lfb_width, drm.lfb_base], [0, 0, 0]);
  });

  it('without /dev/fb0, or when it refuses the ioctl, the running screen_info is kept', () => {
    const sys = q35Sys();
    sys.setFile('/sys/kernel/boot_params/data', runningBootParams(1));
    const si = ScreenInfo.decode(zeroPage(sys).zp);
    assert.deepEqual([si.orig_video_isVGA, si.orig_video_cols, si.lfb_width], [1, 132, 640]);
    const refusing = new Fake({
      files: { '/proc/iomem': Q35_2G_IOMEM, '/sys/kernel/boot_params/data': runningBootParams(1) },
      ioctls: { '/dev/fb0': { [FBIOGET_FSCREENINFO]: 'ENOTTY' } },
    });
    const { zp, plan } = zeroPage(refusing);
    assert.equal(ScreenInfo.decode(zp).orig_video_cols, 132);
    assert.ok(
      plan.notes?.some((n) => /ioctl.*ENOTTY/.test(n)),
      plan.notes?.join('\n'),
    );
  });
});
