// The x86 real-mode kernel header ("setup header") of a bzImage.
// Source of every offset, name and protocol version below: the kernel's
// Documentation/arch/x86/boot.rst, section "The Real-Mode Kernel Header" (the table) and
// "Details of Header Fields". Offsets are absolute file offsets; all fields are little-endian.
import { ascii, defineStruct, type StructValue, u8, u16, u32, u64 } from '../../binary/struct.js';

/** One table, the spec's offsets, the kernel's field names (arch/x86/include/uapi/asm/bootparam.h). */
export const SetupHeader = defineStruct('setup_header', {
  setup_sects: u8(0x1f1), // ALL: setup size in 512-byte sectors; 0 means 4
  root_flags: u16(0x1f2), // ALL
  syssize: u32(0x1f4), // 2.04+ as 4 bytes; 2 bytes before (note (2) of the table)
  ram_size: u16(0x1f8), // ALL, obsolete
  vid_mode: u16(0x1fa), // ALL
  root_dev: u16(0x1fc), // ALL
  boot_flag: u16(0x1fe), // ALL: 0xAA55
  jump: u16(0x200), // 2.00+: 0xEB + signed offset relative to 0x202
  header: ascii(0x202, 4), // 2.00+: "HdrS"
  version: u16(0x206), // 2.00+: (major << 8) | minor
  realmode_swtch: u32(0x208), // 2.00+
  start_sys_seg: u16(0x20c), // 2.00+, obsolete
  kernel_version: u16(0x20e), // 2.00+: version string pointer, less 0x200
  type_of_loader: u8(0x210), // 2.00+
  loadflags: u8(0x211), // 2.00+
  setup_move_size: u16(0x212), // 2.00+
  code32_start: u32(0x214), // 2.00+
  ramdisk_image: u32(0x218), // 2.00+
  ramdisk_size: u32(0x21c), // 2.00+
  bootsect_kludge: u32(0x220), // 2.00+, obsolete
  heap_end_ptr: u16(0x224), // 2.01+
  ext_loader_ver: u8(0x226), // 2.02+
  ext_loader_type: u8(0x227), // 2.02+
  cmd_line_ptr: u32(0x228), // 2.02+
  initrd_addr_max: u32(0x22c), // 2.03+
  kernel_alignment: u32(0x230), // 2.05+
  relocatable_kernel: u8(0x234), // 2.05+
  min_alignment: u8(0x235), // 2.10+: log2 of the minimum alignment
  xloadflags: u16(0x236), // 2.12+
  cmdline_size: u32(0x238), // 2.06+
  hardware_subarch: u32(0x23c), // 2.07+
  hardware_subarch_data: u64(0x240), // 2.07+
  payload_offset: u32(0x248), // 2.08+: from the start of the protected-mode code
  payload_length: u32(0x24c), // 2.08+
  setup_data: u64(0x250), // 2.09+
  pref_address: u64(0x258), // 2.10+
  init_size: u32(0x260), // 2.10+
  handover_offset: u32(0x264), // 2.11+
  kernel_info_offset: u32(0x268), // 2.15+
});
export type SetupHeaderRaw = StructValue<typeof SetupHeader.fields>;

/** The "Proto" column of the table: the first protocol version in which each field is valid. */
export const FIELD_SINCE: { readonly [K in keyof SetupHeaderRaw]: number } = {
  setup_sects: 0,
  root_flags: 0,
  syssize: 0,
  ram_size: 0,
  vid_mode: 0,
  root_dev: 0,
  boot_flag: 0,
  jump: 0x0200,
  header: 0x0200,
  version: 0x0200,
  realmode_swtch: 0x0200,
  start_sys_seg: 0x0200,
  kernel_version: 0x0200,
  type_of_loader: 0x0200,
  loadflags: 0x0200,
  setup_move_size: 0x0200,
  code32_start: 0x0200,
  ramdisk_image: 0x0200,
  ramdisk_size: 0x0200,
  bootsect_kludge: 0x0200,
  heap_end_ptr: 0x0201,
  ext_loader_ver: 0x0202,
  ext_loader_type: 0x0202,
  cmd_line_ptr: 0x0202,
  initrd_addr_max: 0x0203,
  kernel_alignment: 0x0205,
  relocatable_kernel: 0x0205,
  min_alignment: 0x020a,
  xloadflags: 0x020c,
  cmdline_size: 0x0206,
  hardware_subarch: 0x0207,
  hardware_subarch_data: 0x0207,
  payload_offset: 0x0208,
  payload_length: 0x0208,
  setup_data: 0x0209,
  pref_address: 0x020a,
  init_size: 0x020a,
  handover_offset: 0x020b,
  kernel_info_offset: 0x020f,
};

/** Fields valid in every protocol; every other field is `undefined` below its FIELD_SINCE version. */
type AlwaysValid =
  | 'setup_sects'
  | 'root_flags'
  | 'syssize'
  | 'ram_size'
  | 'vid_mode'
  | 'root_dev'
  | 'boot_flag';
export type SetupHeaderFields = Pick<SetupHeaderRaw, AlwaysValid> & {
  [K in Exclude<keyof SetupHeaderRaw, AlwaysValid>]: SetupHeaderRaw[K] | undefined;
};

/** boot.rst "The Real-Mode Kernel Header": a sector is 512 bytes, whatever the medium. */
export const SECTOR_SIZE = 512;
/** boot_flag: "Contains 0xAA55" (Details of Header Fields, boot_flag). */
export const BOOT_FLAG_MAGIC = 0xaa55;
/** header: "Contains the magic number "HdrS" (0x53726448)". */
export const HDRS_MAGIC = 'HdrS';
/** setup_sects: "If this field is 0, the real value is 4". */
export const SETUP_SECTS_DEFAULT = 4;

// loadflags bits (Details of Header Fields, loadflags; bootparam.h).
/** Bit 0: the protected-mode code is loaded at 0x100000 (a bzImage); clear for a zImage at 0x10000. */
export const LOADED_HIGH = 1 << 0;
/** Bit 1: kernel internal, KASLR status handed from the decompressor to the kernel. */
export const KASLR_FLAG = 1 << 1;
/** Bit 5: the boot loader asks for no early messages. */
export const QUIET_FLAG = 1 << 5;
/** Bit 6: obsolete (2.07+). */
export const KEEP_SEGMENTS = 1 << 6;
/** Bit 7: heap_end_ptr is valid. */
export const CAN_USE_HEAP = 1 << 7;

// xloadflags bits, protocol 2.12+ (Details of Header Fields, xloadflags; bootparam.h).
/** Bit 0: the kernel has the legacy 64-bit entry point at 0x200. */
export const XLF_KERNEL_64 = 1 << 0;
/** Bit 1: kernel, boot_params, command line and ramdisk may all be above 4 GiB. */
export const XLF_CAN_BE_LOADED_ABOVE_4G = 1 << 1;
/** Bit 2: 32-bit EFI handover entry at handover_offset. */
export const XLF_EFI_HANDOVER_32 = 1 << 2;
/** Bit 3: 64-bit EFI handover entry at handover_offset + 0x200. */
export const XLF_EFI_HANDOVER_64 = 1 << 3;
/** Bit 4: the kernel supports kexec EFI boot with EFI runtime support. */
export const XLF_EFI_KEXEC = 1 << 4;
/** Bit 5: the kernel supports 5-level paging (bootparam.h; not yet described in boot.rst). */
export const XLF_5LEVEL = 1 << 5;
/** Bit 6: 5-level paging is enabled in the kernel's config (bootparam.h). */
export const XLF_5LEVEL_ENABLED = 1 << 6;
/** Bit 7: the kernel can handle memory encryption (bootparam.h, Linux 6.9+). */
export const XLF_MEM_ENCRYPTION = 1 << 7;

export const XLOADFLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [XLF_KERNEL_64, 'XLF_KERNEL_64'],
  [XLF_CAN_BE_LOADED_ABOVE_4G, 'XLF_CAN_BE_LOADED_ABOVE_4G'],
  [XLF_EFI_HANDOVER_32, 'XLF_EFI_HANDOVER_32'],
  [XLF_EFI_HANDOVER_64, 'XLF_EFI_HANDOVER_64'],
  [XLF_EFI_KEXEC, 'XLF_EFI_KEXEC'],
  [XLF_5LEVEL, 'XLF_5LEVEL'],
  [XLF_5LEVEL_ENABLED, 'XLF_5LEVEL_ENABLED'],
  [XLF_MEM_ENCRYPTION, 'XLF_MEM_ENCRYPTION'],
];

/** Names of the set bits; unknown bits appear as `bit N`. */
export function flagNames(value: number, table: ReadonlyArray<readonly [number, string]>): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 16; bit++) {
    const mask = 1 << bit;
    if ((value & mask) === 0) continue;
    out.push(table.find(([m]) => m === mask)?.[1] ?? `bit ${bit}`);
  }
  return out;
}

/** "2.15" from 0x020f. */
export function formatProtocol(version: number): string {
  return `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
}

/**
 * Decode the header and blank out fields the file's protocol does not define. Without "HdrS" the
 * protocol is "old" (boot.rst: "If the "HdrS" ... is not found at offset 0x202, the boot protocol
 * version is "old"") and only the ALL fields are kept. Throws TruncatedError on a short file.
 */
export function decodeSetupHeader(bytes: Uint8Array): {
  raw: SetupHeaderRaw;
  fields: SetupHeaderFields;
  protocol: number;
} {
  const raw = SetupHeader.decode(bytes);
  const protocol = raw.header === HDRS_MAGIC ? raw.version : 0;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(FIELD_SINCE) as (keyof SetupHeaderRaw)[]) {
    fields[key] = protocol >= FIELD_SINCE[key] ? raw[key] : undefined;
  }
  // Note (2): before 2.04 only the low two bytes of syssize are usable.
  if (protocol < 0x0204) fields['syssize'] = raw.syssize & 0xffff;
  return { raw, fields: fields as SetupHeaderFields, protocol };
}
