// A synthetic x86_64 bzImage: a real setup header (SetupHeader.encode) and a patterned protected-mode part.
import { SetupHeader, type SetupHeaderRaw } from '../../../src/formats/bzimage/setup-header.js';

export const SETUP_SECTS = 4;
export const SETUP_SIZE = (SETUP_SECTS + 1) * 512; // 0xa00
export const PM_SIZE = 0x300000; // 3 MiB of "compressed kernel"

export function syntheticBzImage(overrides: Partial<SetupHeaderRaw> = {}, pmSize = PM_SIZE): Uint8Array {
  const image = new Uint8Array(SETUP_SIZE + pmSize);
  for (let i = SETUP_SIZE; i < image.length; i++) image[i] = (i * 7 + 3) & 0xff;
  SetupHeader.encode(
    {
      setup_sects: SETUP_SECTS,
      boot_flag: 0xaa55,
      jump: 0x66eb, // jmp +0x66: the header ends at 0x202 + 0x66 = 0x268
      header: 'HdrS',
      version: 0x020f,
      loadflags: 0x01 | 0x20 | 0x80, // LOADED_HIGH, QUIET_FLAG, CAN_USE_HEAP as a real image may carry
      syssize: pmSize / 16,
      initrd_addr_max: 0x7fffffff,
      kernel_alignment: 0x200000,
      relocatable_kernel: 1,
      min_alignment: 21,
      xloadflags: 0x7f,
      cmdline_size: 0x7ff,
      pref_address: 0x1000000n,
      init_size: 0x1800000,
      ...overrides,
    },
    image,
  );
  image[0x1ef] = 0xff; // the sentinel header.S sets; a loader must not pass it on
  return image;
}
