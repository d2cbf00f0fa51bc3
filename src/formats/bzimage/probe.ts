// Probes that decide whether a bzImage can be loaded, with the rules of the kernel's
// bzImage64_probe() (arch/x86/kernel/kexec-bzimage64.c) and kexec-tools' bzImage64_probe() /
// bzImage_probe(). Each failed rule yields one readable reason instead of the kernel's pr_err line.
import { KexecError } from '../../errors.js';
import type { Probe } from '../probe-types.js';
import { type BzImage, parseBzImage } from './parse.js';
import {
  BOOT_FLAG_MAGIC,
  formatProtocol,
  HDRS_MAGIC,
  LOADED_HIGH,
  SECTOR_SIZE,
  SetupHeader,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_KERNEL_64,
} from './setup-header.js';

/** Both probes want at least the boot sector and one setup sector ("File is too short"). */
export const BZIMAGE_MIN_SIZE = 2 * SECTOR_SIZE;
/** xloadflags and the 64-bit entry at 0x200 arrived with protocol 2.12 (boot.rst protocol table). */
export const BZIMAGE64_MIN_PROTOCOL = 0x020c;
/** bzImage and initrd support arrived with protocol 2.00. */
export const BZIMAGE_MIN_PROTOCOL = 0x0200;

const hex = (n: number, w = 0) => `0x${n.toString(16).padStart(w, '0')}`;

/** Checks shared by both probes; returns a reason or the parsed image. */
function common(bytes: Uint8Array, minProtocol: number): Probe<BzImage> {
  if (bytes.byteLength < BZIMAGE_MIN_SIZE) {
    return {
      ok: false,
      reason: `file is ${bytes.byteLength} bytes, shorter than 2 sectors (${BZIMAGE_MIN_SIZE})`,
    };
  }
  // Cheap magic checks first so a foreign file is rejected for the most telling reason.
  const raw = SetupHeader.decode(bytes); // cannot throw: 1024 bytes cover the whole header
  if (raw.header !== HDRS_MAGIC) return { ok: false, reason: `no "HdrS" at 0x202` };
  if (raw.boot_flag !== BOOT_FLAG_MAGIC) {
    return { ok: false, reason: `boot_flag at 0x1fe is ${hex(raw.boot_flag, 4)}, not 0xaa55` };
  }
  if (raw.version < minProtocol) {
    return {
      ok: false,
      reason: `boot protocol ${formatProtocol(raw.version)} is older than ${formatProtocol(minProtocol)}`,
    };
  }
  if ((raw.loadflags & LOADED_HIGH) === 0) {
    return { ok: false, reason: 'loadflags lacks LOADED_HIGH: a zImage, not a bzImage' };
  }
  let image: BzImage;
  try {
    image = parseBzImage(bytes);
  } catch (e) {
    if (e instanceof KexecError) return { ok: false, reason: e.message };
    throw e;
  }
  return { ok: true, header: image };
}

/** kexec_file_load's and kexec-tools' rules for a 64-bit bzImage. */
export function probeBzImage64(bytes: Uint8Array): Probe<BzImage> {
  const r = common(bytes, BZIMAGE64_MIN_PROTOCOL);
  if (!r.ok) return r;
  const xlf = r.header.raw.xloadflags;
  if ((xlf & XLF_KERNEL_64) === 0)
    return { ok: false, reason: 'xloadflags lacks XLF_KERNEL_64: not a 64-bit kernel' };
  if ((xlf & XLF_CAN_BE_LOADED_ABOVE_4G) === 0) {
    return { ok: false, reason: 'xloadflags lacks XLF_CAN_BE_LOADED_ABOVE_4G' };
  }
  return r;
}

/** kexec-tools' bzImage (kexec_load only): protocol 2.00 or later, no xloadflags test. */
export function probeBzImage(bytes: Uint8Array): Probe<BzImage> {
  return common(bytes, BZIMAGE_MIN_PROTOCOL);
}
