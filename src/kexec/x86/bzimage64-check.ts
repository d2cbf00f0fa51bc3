// What a bzImage must offer for our kexec_load path: the 64-bit entry of boot protocol 2.12+
// (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol" and "Details of Header Fields").
import { FormatError, UsageError } from '../../errors.js';
import {
  BOOT_FLAG_MAGIC,
  decodeSetupHeader,
  HDRS_MAGIC,
  LOADED_HIGH,
  SECTOR_SIZE,
  SETUP_SECTS_DEFAULT,
  type SetupHeaderRaw,
  XLF_5LEVEL,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_KERNEL_64,
} from '../../formats/bzimage/setup-header.js';

/** xloadflags (and with it XLF_KERNEL_64) exists from protocol 2.12. */
export const MIN_PROTOCOL_64 = 0x020c;
/** boot.rst "64-bit Boot Protocol": the 64-bit entry is at the protected-mode load address + 0x200. */
export const ENTRY_64_OFFSET = 0x200n;

export interface BzImage64 {
  hdr: SetupHeaderRaw;
  protocol: number;
  /** Bytes of the real-mode part, (setup_sects + 1) * 512. */
  setupSize: number;
  /** The protected-mode kernel: what is loaded at the kernel address. */
  kernel: Uint8Array;
  relocatable: boolean;
  above4G: boolean;
}

const fail = (what: string): never => {
  throw new FormatError(`not a 64-bit bootable bzImage: ${what}`, 'bzImage', undefined, {
    hint: 'kexec_load (-c) in kexec-ts loads x86_64 bzImages with boot protocol 2.12 or newer',
  });
};

/** Check the header for the 64-bit kexec_load path; throws FormatError/UsageError saying what is missing. */
export function checkBzImage64(
  image: Uint8Array,
  opts: { cmdline: string; fiveLevelPaging?: boolean | undefined },
): BzImage64 {
  const { raw: hdr, protocol } = decodeSetupHeader(image);
  if (hdr.boot_flag !== BOOT_FLAG_MAGIC) fail(`boot_flag is 0x${hdr.boot_flag.toString(16)}, not 0xaa55`);
  if (hdr.header !== HDRS_MAGIC) fail('no "HdrS" at 0x202');
  if (protocol < MIN_PROTOCOL_64)
    fail(`boot protocol ${protocol >> 8}.${protocol & 0xff} is older than 2.12`);
  if (!(hdr.loadflags & LOADED_HIGH)) fail('loadflags lacks LOADED_HIGH (a zImage)');
  if (!(hdr.xloadflags & XLF_KERNEL_64)) fail('xloadflags lacks XLF_KERNEL_64 (no 64-bit entry)');
  if (hdr.init_size === 0) fail('init_size is 0');
  const relocatable = hdr.relocatable_kernel !== 0;
  const align = hdr.kernel_alignment;
  if (relocatable && (align < 0x1000 || (align & (align - 1)) !== 0)) {
    fail(`kernel_alignment 0x${align.toString(16)} is not a power of two >= 4096`);
  }
  const setupSize = ((hdr.setup_sects || SETUP_SECTS_DEFAULT) + 1) * SECTOR_SIZE;
  if (setupSize >= image.length) fail(`the file (${image.length} bytes) ends inside the setup code`);
  if (opts.fiveLevelPaging && !(hdr.xloadflags & XLF_5LEVEL)) {
    throw new FormatError(
      'the running kernel uses 5-level paging and this bzImage lacks XLF_5LEVEL',
      'bzImage',
      undefined,
      { hint: 'boot the running kernel with no5lvl, or load a kernel built with 5-level paging support' },
    );
  }
  const len = Buffer.byteLength(opts.cmdline);
  if (len > hdr.cmdline_size) {
    throw new UsageError(`command line is ${len} bytes; the kernel accepts at most ${hdr.cmdline_size}`, {
      hint: 'shorten --append/--command-line (the limit is the kernel setup header cmdline_size)',
    });
  }
  return {
    hdr,
    protocol,
    setupSize,
    kernel: image.subarray(setupSize),
    relocatable,
    above4G: (hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) !== 0,
  };
}
