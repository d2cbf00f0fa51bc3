// struct boot_params, the x86 "zero page" a 64-bit kernel entry receives in %rsi.
// Offsets: Documentation/arch/x86/zero-page.rst (the Offset/Size table) and the offset comments of
// struct boot_params in arch/x86/include/uapi/asm/bootparam.h; nested structs are kept as bytes except
// efi_info, whose eight u32 fields are flattened at 0x1c0. The setup header region (hdr, 0x1f1) uses the
// same absolute offsets as the bzImage file, so SetupHeader (formats/bzimage/setup-header.ts) encodes
// and decodes its fields directly in a boot_params buffer.
import { bytes, defineStruct, type StructValue, u8, u16, u32, u64 } from '../../binary/struct.js';
import type { MemoryType } from '../memory/ranges.js';

/** sizeof(struct setup_header): packed, from setup_sects (0x1f1) to the end of kernel_info_offset. */
export const SETUP_HEADER_SIZE = 0x26c - 0x1f1;

export const BootParams = defineStruct('boot_params', {
  screen_info: bytes(0x000, 0x40), // struct screen_info (include/uapi/linux/screen_info.h)
  apm_bios_info: bytes(0x040, 0x14),
  tboot_addr: u64(0x058),
  ist_info: bytes(0x060, 0x10),
  acpi_rsdp_addr: u64(0x070), // read by kernels with boot protocol 2.14+
  hd0_info: bytes(0x080, 0x10), // obsolete
  hd1_info: bytes(0x090, 0x10), // obsolete
  sys_desc_table: bytes(0x0a0, 0x10), // obsolete
  olpc_ofw_header: bytes(0x0b0, 0x10),
  ext_ramdisk_image: u32(0x0c0), // ramdisk_image bits 63..32
  ext_ramdisk_size: u32(0x0c4), // ramdisk_size bits 63..32
  ext_cmd_line_ptr: u32(0x0c8), // cmd_line_ptr bits 63..32
  cc_blob_address: u32(0x13c),
  edid_info: bytes(0x140, 0x80),
  // struct efi_info at 0x1c0 (bootparam.h)
  efi_loader_signature: u32(0x1c0),
  efi_systab: u32(0x1c4),
  efi_memdesc_size: u32(0x1c8),
  efi_memdesc_version: u32(0x1cc),
  efi_memmap: u32(0x1d0),
  efi_memmap_size: u32(0x1d4),
  efi_systab_hi: u32(0x1d8),
  efi_memmap_hi: u32(0x1dc),
  alt_mem_k: u32(0x1e0),
  scratch: u32(0x1e4),
  e820_entries: u8(0x1e8),
  eddbuf_entries: u8(0x1e9),
  edd_mbr_sig_buf_entries: u8(0x1ea),
  kbd_status: u8(0x1eb),
  secure_boot: u8(0x1ec),
  sentinel: u8(0x1ef), // 0xff in the image's header.S; a loader that copies it tells the kernel so
  hdr: bytes(0x1f1, SETUP_HEADER_SIZE), // struct setup_header, packed: 0x1f1..0x26c
  edd_mbr_sig_buffer: bytes(0x290, 0x40), // u32[EDD_MBR_SIG_MAX = 16]
  e820_table: bytes(0x2d0, 0xa00), // struct boot_e820_entry[E820_MAX_ENTRIES_ZEROPAGE = 128]
  eddbuf: bytes(0xd00, 0x1ec), // struct edd_info[EDDMAXNR = 6]
  _pad9: bytes(0xeec, 0x114), // to sizeof(struct boot_params) = 4096
});
export type BootParamsValue = StructValue<typeof BootParams.fields>;

export const BOOT_PARAMS_SIZE = 0x1000;
export const HDR_OFFSET = 0x1f1;
/** bootparam.h E820_MAX_ENTRIES_ZEROPAGE. */
export const E820_MAX_ENTRIES_ZEROPAGE = 128;

/** struct boot_e820_entry (bootparam.h): packed, 20 bytes. */
export const E820Entry = defineStruct('boot_e820_entry', {
  addr: u64(0),
  size: u64(8),
  type: u32(16),
});
export const E820_ENTRY_SIZE = 20;

// arch/x86/include/asm/e820/types.h enum e820_type.
export const E820_TYPE_RAM = 1;
export const E820_TYPE_RESERVED = 2;
export const E820_TYPE_ACPI = 3;
export const E820_TYPE_NVS = 4;
export const E820_TYPE_UNUSABLE = 5;
export const E820_TYPE_PMEM = 7;
export const E820_TYPE_PRAM = 12;
export const E820_TYPE_SOFT_RESERVED = 0xefffffff;

export const E820_TYPE_OF: Readonly<Record<MemoryType, number>> = {
  ram: E820_TYPE_RAM,
  reserved: E820_TYPE_RESERVED,
  acpi: E820_TYPE_ACPI,
  nvs: E820_TYPE_NVS,
  unusable: E820_TYPE_UNUSABLE,
  pmem: E820_TYPE_PMEM,
  pram: E820_TYPE_PRAM,
  'soft-reserved': E820_TYPE_SOFT_RESERVED,
};

/** struct setup_data header (arch/x86/include/uapi/asm/setup_data.h); data[len] follows. */
export const SetupDataHeader = defineStruct('setup_data', {
  next: u64(0),
  type: u32(8),
  len: u32(12),
});
export const SETUP_DATA_HEADER_SIZE = 16;

// setup_data types (setup_data.h; bootparam.h before Linux 6.6).
export const SETUP_NONE = 0;
export const SETUP_E820_EXT = 1;
export const SETUP_DTB = 2;
export const SETUP_PCI = 3;
export const SETUP_EFI = 4;
export const SETUP_APPLE_PROPERTIES = 5;
export const SETUP_JAILHOUSE = 6;
export const SETUP_CC_BLOB = 7;
export const SETUP_IMA = 8;
export const SETUP_RNG_SEED = 9;
export const SETUP_KEXEC_KHO = 10;
export const SETUP_INDIRECT = 1 << 31;

/** Documentation/arch/x86/boot.rst type_of_loader: 0xff means "no assigned id". */
export const LOADER_TYPE_UNDEFINED = 0xff;

/**
 * The few struct screen_info fields we set (include/uapi/linux/screen_info.h). The rest of the 64 bytes
 * stay zero, or are copied whole from the running kernel's boot_params.
 */
export const ScreenInfo = defineStruct('screen_info', {
  orig_x: u8(0x00),
  orig_y: u8(0x01),
  ext_mem_k: u16(0x02),
  orig_video_page: u16(0x04),
  orig_video_mode: u8(0x06),
  orig_video_cols: u8(0x07),
  orig_video_lines: u8(0x0e),
  orig_video_isVGA: u8(0x0f), // nonzero: VGA (vgacon); VIDEO_TYPE_VLFB/EFI: a framebuffer
  orig_video_points: u16(0x10),
  // VESA/EFI linear frame buffer
  lfb_width: u16(0x12),
  lfb_height: u16(0x14),
  lfb_depth: u16(0x16),
  lfb_base: u32(0x18),
  lfb_size: u32(0x1c), // in 64 KiB units
  lfb_linelength: u16(0x24),
  red_size: u8(0x26),
  red_pos: u8(0x27),
  green_size: u8(0x28),
  green_pos: u8(0x29),
  blue_size: u8(0x2a),
  blue_pos: u8(0x2b),
  rsvd_size: u8(0x2c),
  rsvd_pos: u8(0x2d),
  vesapm_seg: u16(0x2e),
  pages: u16(0x32),
  capabilities: u32(0x36),
  ext_lfb_base: u32(0x3a), // lfb_base bits 63..32 with VIDEO_CAPABILITY_64BIT_BASE
});
// include/uapi/linux/screen_info.h
export const VIDEO_TYPE_VLFB = 0x23;
export const VIDEO_TYPE_EFI = 0x70;
export const VIDEO_CAPABILITY_64BIT_BASE = 1 << 1;

/** An 80x25 VGA text console, the default kexec-tools also falls back to (kexec/arch/i386/x86-linux-setup.c,
 *  setup_linux_vesafb and setup_linux_system_parameters). */
export function vgaTextScreenInfo(): Uint8Array {
  return ScreenInfo.encode(
    {
      orig_video_mode: 3,
      orig_video_cols: 80,
      orig_video_lines: 25,
      orig_video_isVGA: 1,
      orig_video_points: 16,
    },
    new Uint8Array(0x40),
  );
}
