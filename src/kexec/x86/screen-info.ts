// screen_info for the new kernel from the running framebuffer, as kexec-tools' setup_linux_vesafb()
// does (kexec/arch/i386/x86-linux-setup.c): when /dev/fb0 is the firmware's linear framebuffer (vesafb
// "VESA VGA", efifb "EFI VGA", or simplefb "simple" standing in for either), describe its current mode;
// with another driver on fb0 no firmware console is passed; without fb0 the caller keeps the running
// kernel's screen_info bytes.
import { bytes, defineStruct, u32, u64 } from '../../binary/struct.js';
import { FileError, SyscallError } from '../../errors.js';
import type { Sys } from '../../sys/types.js';
import {
  ScreenInfo,
  VIDEO_CAPABILITY_64BIT_BASE,
  VIDEO_TYPE_EFI,
  VIDEO_TYPE_VLFB,
  vgaTextScreenInfo,
} from './boot-params.js';

export const FB_DEVICE = '/dev/fb0';
// include/uapi/linux/fb.h
export const FBIOGET_VSCREENINFO = 0x4600;
export const FBIOGET_FSCREENINFO = 0x4602;

/** struct fb_fix_screeninfo on a 64-bit kernel (unsigned long smem_start/mmio_start are 8 bytes). */
export const FbFixScreeninfo = defineStruct('fb_fix_screeninfo', {
  id: bytes(0, 16), // driver name, NUL-padded
  smem_start: u64(16), // physical start of the framebuffer
  smem_len: u32(24),
  type: u32(28),
  visual: u32(36),
  line_length: u32(48), // bytes per line
});
export const FB_FIX_SCREENINFO_SIZE = 80;

/** struct fb_var_screeninfo: all __u32; each fb_bitfield is {offset, length, msb_right}. */
export const FbVarScreeninfo = defineStruct('fb_var_screeninfo', {
  xres: u32(0),
  yres: u32(4),
  bits_per_pixel: u32(24),
  red_offset: u32(32),
  red_length: u32(36),
  green_offset: u32(44),
  green_length: u32(48),
  blue_offset: u32(56),
  blue_length: u32(60),
  transp_offset: u32(68),
  transp_length: u32(72),
});
export const FB_VAR_SCREENINFO_SIZE = 160;

/** fix.id of the firmware framebuffer drivers: vesafb, efifb (drivers/video/fbdev), simplefb. */
const FIRMWARE_FB_TYPES: Readonly<Record<string, number | 'running'>> = {
  'VESA VGA': VIDEO_TYPE_VLFB,
  'EFI VGA': VIDEO_TYPE_EFI,
  // simplefb drives a VLFB or EFI framebuffer the kernel found in its own screen_info (sysfb).
  simple: 'running',
};

export interface FramebufferScreenInfo {
  /** The 64 bytes to pass, or undefined: keep the running kernel's. */
  screenInfo: Uint8Array | undefined;
  /** For -d: what was found. */
  note: string;
}

/** Reads /dev/fb0 through two ioctls; `running` is the running kernel's screen_info, if known. */
export function screenInfoFromFramebuffer(
  sys: Pick<Sys, 'ioctlRead'>,
  running?: Uint8Array,
): FramebufferScreenInfo {
  let fixBytes: Uint8Array;
  let varBytes: Uint8Array;
  try {
    fixBytes = sys.ioctlRead(FB_DEVICE, FBIOGET_FSCREENINFO, FB_FIX_SCREENINFO_SIZE);
    varBytes = sys.ioctlRead(FB_DEVICE, FBIOGET_VSCREENINFO, FB_VAR_SCREENINFO_SIZE);
  } catch (err) {
    if (!(err instanceof FileError || err instanceof SyscallError)) throw err;
    return { screenInfo: undefined, note: `${FB_DEVICE}: ${err.message}; running kernel's screen_info kept` };
  }
  const fix = FbFixScreeninfo.decode(fixBytes);
  const v = FbVarScreeninfo.decode(varBytes);
  const id = Buffer.from(fix.id).toString('latin1').replace(/\0.*$/s, '');
  let type = FIRMWARE_FB_TYPES[id];
  if (type === 'running') {
    const t = running ? ScreenInfo.decode(running).orig_video_isVGA : 0;
    type = t === VIDEO_TYPE_VLFB || t === VIDEO_TYPE_EFI ? t : undefined;
  }
  if (type === undefined) {
    // Another driver owns the display (e.g. a DRM driver): its mode is not one the firmware set up.
    const screenInfo = vgaTextScreenInfo();
    ScreenInfo.encode({ orig_video_isVGA: 0 }, screenInfo);
    return { screenInfo, note: `${FB_DEVICE} is "${id}", not a firmware framebuffer: none passed` };
  }
  const base = BigInt(fix.smem_start);
  if (base === 0n) {
    return {
      screenInfo: undefined,
      note: `${FB_DEVICE} "${id}" hides its address; running screen_info kept`,
    };
  }
  const screenInfo = vgaTextScreenInfo();
  const color = v.bits_per_pixel > 8;
  ScreenInfo.encode(
    {
      orig_video_isVGA: type,
      lfb_width: v.xres & 0xffff,
      lfb_height: v.yres & 0xffff,
      lfb_depth: v.bits_per_pixel & 0xffff,
      lfb_base: Number(base & 0xffffffffn),
      lfb_linelength: fix.line_length & 0xffff,
      // lfb_size is in bytes for efifb (the EFI stub stores the GOP size; efifb.c reads it as is) and in
      // 64 KiB units for vesafb (video-vesa.c, vesafb.c `lfb_size * 65536`). pages counts display pages
      // (the EFI stub writes 1); kexec-tools writes 4 KiB pages and 64 KiB units for both, which makes
      // efifb print "pages=1000" where the firmware boot said 1.
      lfb_size: type === VIDEO_TYPE_EFI ? fix.smem_len : Math.ceil(fix.smem_len / 0x10000),
      pages: 1,
      vesapm_seg: 0,
      ...(color
        ? {
            red_pos: v.red_offset,
            red_size: v.red_length,
            green_pos: v.green_offset,
            green_size: v.green_length,
            blue_pos: v.blue_offset,
            blue_size: v.blue_length,
            rsvd_pos: v.transp_offset,
            rsvd_size: v.transp_length,
          }
        : {}),
      ...(base > 0xffffffffn
        ? { ext_lfb_base: Number(base >> 32n), capabilities: VIDEO_CAPABILITY_64BIT_BASE }
        : {}),
    },
    screenInfo,
  );
  return {
    screenInfo,
    note: `${FB_DEVICE} "${id}" ${v.xres}x${v.yres}x${v.bits_per_pixel} at 0x${base.toString(16)} (video type 0x${type.toString(16)})`,
  };
}
