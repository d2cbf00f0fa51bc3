// The header at the start of our x86_64 purgatory blob (purgatory-x86_64.S pins every offset with .org),
// so the loader patches variables by offset instead of relocating an ELF object.
import { ascii, bytes, defineStruct, type StructValue, u16, u32, u64 } from '../binary/struct.js';
import { PURGATORY_X86_64_BASE64, PURGATORY_X86_64_MEMSZ, PURGATORY_X86_64_SHA256 } from './x86_64-bytes.js';

/** Entries in the region table: one per non-purgatory segment at most (KEXEC_SEGMENT_MAX is 16). */
export const PURGATORY_MAX_REGIONS_X86_64 = 16;

export const PurgatoryHeader = defineStruct('kexec_ts_purgatory', {
  magic: ascii(0x008, 8), // "KTSPURG1"; offset 0 holds the entry jmp
  header_size: u32(0x010),
  verify_offset: u32(0x014), // int verify_regions(void), SysV ABI (host self-test)
  entry_rip: u64(0x018), // the kernel's 64-bit entry
  entry_rsi: u64(0x020), // struct boot_params
  entry_rsp: u64(0x028), // 0: the purgatory's own stack top
  skip_checks: u32(0x030),
  serial_port: u16(0x034), // 16550 base for the mismatch line; 0 = silent
  expected_digest: bytes(0x040, 32),
  computed_digest: bytes(0x060, 32), // written by the purgatory at run time
  regions: bytes(0x080, PURGATORY_MAX_REGIONS_X86_64 * 16), // { u64 start, u64 len }[16]
});
export type PurgatoryHeaderValue = StructValue<typeof PurgatoryHeader.fields>;

export const PURGATORY_MAGIC = 'KTSPURG1';
/** What the purgatory prints on the serial port before halting when the digest does not match. */
export const PURGATORY_MISMATCH_LINE = 'KEXEC-TS-PURGATORY SHA256-MISMATCH';
/** The legacy COM1 base the lab's console is on. */
export const COM1_PORT = 0x3f8;

export interface PurgatoryRegion {
  start: bigint;
  /** A multiple of 64: the purgatory hashes whole SHA-256 blocks only. */
  len: bigint;
}

export interface PurgatoryVariables {
  entryRip: bigint;
  entryRsi: bigint;
  entryRsp?: bigint;
  skipChecks: boolean;
  serialPort: number;
  regions: readonly PurgatoryRegion[];
  digest: Uint8Array;
}

/** A fresh copy of the committed blob and the memory it needs (bytes + .bss stack). */
export function purgatoryX86_64(): { bytes: Uint8Array; memsz: number; sha256: string } {
  const blob = new Uint8Array(Buffer.from(PURGATORY_X86_64_BASE64, 'base64'));
  return { bytes: blob, memsz: PURGATORY_X86_64_MEMSZ, sha256: PURGATORY_X86_64_SHA256 };
}

/** Write the variables into a blob (in place); throws when the blob is not ours. */
export function patchPurgatory(blob: Uint8Array, v: PurgatoryVariables): Uint8Array {
  const h = PurgatoryHeader.decode(blob);
  if (h.magic !== PURGATORY_MAGIC) throw new Error(`purgatory blob has magic ${JSON.stringify(h.magic)}`);
  if (v.regions.length > PURGATORY_MAX_REGIONS_X86_64) {
    throw new Error(`${v.regions.length} purgatory regions; the table holds ${PURGATORY_MAX_REGIONS_X86_64}`);
  }
  if (v.digest.length !== 32) throw new Error('purgatory digest must be 32 bytes');
  const table = new Uint8Array(PURGATORY_MAX_REGIONS_X86_64 * 16);
  const view = new DataView(table.buffer);
  v.regions.forEach((r, i) => {
    if (r.len % 64n !== 0n) throw new Error(`purgatory region ${i} length ${r.len} is not a multiple of 64`);
    view.setBigUint64(i * 16, r.start, true);
    view.setBigUint64(i * 16 + 8, r.len, true);
  });
  return PurgatoryHeader.encode(
    {
      entry_rip: v.entryRip,
      entry_rsi: v.entryRsi,
      entry_rsp: v.entryRsp ?? 0n,
      skip_checks: v.skipChecks ? 1 : 0,
      serial_port: v.serialPort,
      expected_digest: v.digest,
      regions: table,
    },
    blob,
  );
}
