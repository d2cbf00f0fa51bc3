// EDD (BIOS Enhanced Disk Drive) information for the new kernel's boot_params. The real-mode setup code
// asks the BIOS (int 0x13) and stores it in eddbuf/edd_mbr_sig_buffer; the 64-bit entry never runs that
// code, so a kexec loader copies what the running kernel exports in /sys/firmware/edd (CONFIG_EDD),
// as kexec-tools' setup_edd_info() does (kexec/arch/i386/x86-linux-setup.c). Only legacy-BIOS disk
// naming (/sys/firmware/edd, the edd module) uses it.
import { bytes, defineStruct, u8, u16 } from '../../binary/struct.js';
import { FileError } from '../../errors.js';
import type { Sys } from '../../sys/types.js';

export const EDD_SYSFS = '/sys/firmware/edd';
// include/uapi/linux/edd.h
export const EDDMAXNR = 6;
export const EDD_MBR_SIG_MAX = 16;
export const EDD_DEVICE_PARAM_SIZE = 74;
/** sizeof(struct edd_info), packed. */
export const EDD_INFO_SIZE = 8 + EDD_DEVICE_PARAM_SIZE;
// edd.h interface_support bits; drivers/firmware/edd.c edd_show_extensions() prints one line per bit.
export const EDD_EXT_FIXED_DISK_ACCESS = 1 << 0;
export const EDD_EXT_DEVICE_LOCKING_AND_EJECTING = 1 << 1;
export const EDD_EXT_ENHANCED_DISK_DRIVE_SUPPORT = 1 << 2;
export const EDD_EXT_64BIT_EXTENSIONS = 1 << 3;
const EXTENSION_LINES: ReadonlyArray<readonly [string, number]> = [
  ['Fixed disk access', EDD_EXT_FIXED_DISK_ACCESS],
  ['Device locking and ejecting', EDD_EXT_DEVICE_LOCKING_AND_EJECTING],
  ['Enhanced Disk Drive support', EDD_EXT_ENHANCED_DISK_DRIVE_SUPPORT],
  ['64-bit extensions', EDD_EXT_64BIT_EXTENSIONS],
];

/** struct edd_info (include/uapi/linux/edd.h), packed; params is struct edd_device_params as bytes. */
export const EddInfo = defineStruct('edd_info', {
  device: u8(0), // BIOS drive number, 0x80 = first hard disk
  version: u8(1), // EDD version from int 0x13 AH=41h; 0 = no EDD, only the legacy geometry
  interface_support: u16(2),
  legacy_max_cylinder: u16(4),
  legacy_max_head: u8(6),
  legacy_sectors_per_track: u8(7),
  params: bytes(8, EDD_DEVICE_PARAM_SIZE), // int 0x13 AH=48h result, starting with its u16 length
});

export interface EddParams {
  /** struct edd_info entries, at most EDDMAXNR. */
  entries: Uint8Array[];
  /** MBR signatures, at most EDD_MBR_SIG_MAX. */
  mbrSignatures: number[];
}

/** The boot_params fields (zero-page.rst: 0x1e9, 0x1ea, 0x290, 0xd00). */
export function eddFields(edd: EddParams): {
  eddbuf: Uint8Array;
  eddbuf_entries: number;
  edd_mbr_sig_buffer: Uint8Array;
  edd_mbr_sig_buf_entries: number;
} {
  const entries = edd.entries.slice(0, EDDMAXNR);
  const sigs = edd.mbrSignatures.slice(0, EDD_MBR_SIG_MAX);
  const eddbuf = new Uint8Array(EDDMAXNR * EDD_INFO_SIZE);
  for (const [i, e] of entries.entries()) eddbuf.set(e.subarray(0, EDD_INFO_SIZE), i * EDD_INFO_SIZE);
  const sigBuf = new Uint8Array(EDD_MBR_SIG_MAX * 4);
  const dv = new DataView(sigBuf.buffer);
  for (const [i, sig] of sigs.entries()) dv.setUint32(i * 4, sig, true);
  return {
    eddbuf,
    eddbuf_entries: entries.length,
    edd_mbr_sig_buffer: sigBuf,
    edd_mbr_sig_buf_entries: sigs.length,
  };
}

export type EddProbe = { ok: true; edd: EddParams } | { ok: false; reason: string };

const num = (text: string | undefined, re: RegExp, radix: number): number | undefined => {
  const m = text === undefined ? null : re.exec(text.trim());
  return m ? Number.parseInt(m[1]!, radix) : undefined;
};

/**
 * /sys/firmware/edd/int13_devXX/{version, mbr_signature, legacy_*, extensions, raw_data} (the formats of
 * drivers/firmware/edd.c). The kernel hides legacy_* and extensions when they are zero, so a missing one
 * reads as 0; a missing version or a raw_data shorter than its own length field drops EDD altogether,
 * as kexec-tools does.
 */
export function readEdd(sys: Pick<Sys, 'listDir' | 'readText' | 'readFile'>): EddProbe {
  const names = sys.listDir(EDD_SYSFS);
  if (names === undefined) return { ok: false, reason: `no ${EDD_SYSFS} (CONFIG_EDD module not loaded?)` };
  const devs = names
    .map((n) => ({ n, dev: num(n, /^int13_dev([0-9a-f]{1,2})$/i, 16) }))
    .filter((d): d is { n: string; dev: number } => d.dev !== undefined)
    .sort((a, b) => a.dev - b.dev);
  const entries: Uint8Array[] = [];
  const mbrSignatures: number[] = [];
  for (const { n, dev } of devs.slice(0, EDDMAXNR)) {
    const dir = `${EDD_SYSFS}/${n}`;
    const read = (f: string) => sys.readText(`${dir}/${f}`);
    const sig = num(read('mbr_signature'), /^0x([0-9a-f]+)$/i, 16);
    if (sig !== undefined && mbrSignatures.length < EDD_MBR_SIG_MAX) mbrSignatures.push(sig);
    const version = num(read('version'), /^0x([0-9a-f]+)$/i, 16);
    if (version === undefined) return { ok: false, reason: `${dir}/version unreadable` };
    const info = EddInfo.encode(
      { device: dev, version, params: new Uint8Array(EDD_DEVICE_PARAM_SIZE) },
      new Uint8Array(EDD_INFO_SIZE),
    );
    if (version !== 0) {
      const params = readRaw(sys, `${dir}/raw_data`);
      if (typeof params === 'string') return { ok: false, reason: params };
      let ext = 0;
      for (const line of (read('extensions') ?? '').split('\n')) {
        for (const [text, bit] of EXTENSION_LINES) if (line.startsWith(text)) ext |= bit;
      }
      EddInfo.encode(
        {
          device: dev,
          version,
          interface_support: ext,
          legacy_max_cylinder: num(read('legacy_max_cylinder'), /^(\d+)$/, 10) ?? 0,
          legacy_max_head: num(read('legacy_max_head'), /^(\d+)$/, 10) ?? 0,
          legacy_sectors_per_track: num(read('legacy_sectors_per_track'), /^(\d+)$/, 10) ?? 0,
          params,
        },
        info,
      );
    }
    entries.push(info);
  }
  return { ok: true, edd: { entries, mbrSignatures } };
}

/** raw_data: the device parameters, at most 74 bytes, at least as many as their own length field says. */
function readRaw(sys: Pick<Sys, 'readFile'>, path: string): Uint8Array | string {
  let raw: Uint8Array;
  try {
    raw = sys.readFile(path);
  } catch (err) {
    if (err instanceof FileError) return `${path} unreadable (${err.errno})`;
    throw err;
  }
  const params = new Uint8Array(EDD_DEVICE_PARAM_SIZE);
  params.set(raw.subarray(0, EDD_DEVICE_PARAM_SIZE));
  const len = raw.length >= 2 ? raw[0]! | (raw[1]! << 8) : 0;
  if (raw.length < Math.min(len, EDD_DEVICE_PARAM_SIZE) || raw.length < 2) {
    return `${path}: ${raw.length} bytes, its length field says ${len}`;
  }
  return params;
}
