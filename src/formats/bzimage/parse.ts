// parseBzImage: the setup header plus what a loader or `inspect` derives from it: the kernel
// version string, the real-mode/protected-mode split, the payload's compression and the PE wrapper.
// Layout facts from Documentation/arch/x86/boot.rst ("The Real-Mode Kernel Header", "Details of
// Header Fields": setup_sects, kernel_version, payload_offset).
import { slice, startsWith } from '../../binary/bounds.js';
import { TruncatedError } from '../../errors.js';
import { type CompressionName, detectCompression } from '../compress/detect.js';
import { type PeInfo, parsePe } from '../pe/pe.js';
import {
  decodeSetupHeader,
  SECTOR_SIZE,
  SETUP_SECTS_DEFAULT,
  type SetupHeaderFields,
  type SetupHeaderRaw,
} from './setup-header.js';

/** kernel_version is "a pointer ... less 0x200" (Details of Header Fields, kernel_version). */
const KERNEL_VERSION_BASE = 0x200;
/** Our cap on the NUL-terminated version string; real ones are about 100 bytes. */
export const MAX_KERNEL_VERSION_LEN = 512;
/** "The uncompressed payload is currently always ELF (magic number 7F 45 4C 46)" (payload_offset). */
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export interface BzImage {
  /** Header fields, `undefined` where the file's protocol does not define them. */
  header: SetupHeaderFields;
  /** Every field as stored, regardless of protocol (for diagnostics and re-encoding). */
  raw: SetupHeaderRaw;
  /** Boot protocol, e.g. 0x020f; 0 when "HdrS" is absent (an "old" kernel). */
  protocol: number;
  /** Real-mode sectors after the boot sector: setup_sects, or 4 when it is 0. */
  setupSects: number;
  /** Bytes of real-mode code including the boot sector: (setupSects + 1) * 512. */
  setupSize: number;
  kernelVersion: string | undefined;
  /** The protected-mode code: everything after the real-mode part (a view, not a copy). */
  protectedMode: Uint8Array;
  /** The compressed kernel inside the protected-mode code (2.08+), if the header locates it. */
  payloadCompression: CompressionName | 'none' | undefined;
  pe: PeInfo | undefined;
  warnings: string[];
}

/** Read a NUL-terminated ASCII string of at most `max` bytes starting at `at`. */
function cString(bytes: Uint8Array, at: number, max: number): string | undefined {
  const end = Math.min(bytes.byteLength, at + max);
  let s = '';
  for (let i = at; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
  return undefined; // no terminator within the cap or the file
}

/**
 * Parse a bzImage. Throws TruncatedError when the file is shorter than the setup header or than
 * the real-mode part the header announces. Does not judge loadability: see probeBzImage64.
 */
export function parseBzImage(bytes: Uint8Array): BzImage {
  const { raw, fields, protocol } = decodeSetupHeader(bytes);
  const warnings: string[] = [];
  // setup_sects: "If this field is 0, the real value is 4"; plus one boot sector.
  const setupSects = raw.setup_sects === 0 ? SETUP_SECTS_DEFAULT : raw.setup_sects;
  const setupSize = (setupSects + 1) * SECTOR_SIZE;
  if (setupSize > bytes.byteLength) {
    throw new TruncatedError('setup_header', 'setup_sects', 0, setupSize, bytes.byteLength);
  }
  const protectedMode = bytes.subarray(setupSize);

  let kernelVersion: string | undefined;
  if (fields.kernel_version) {
    // The string lives in the setup code: "This value should be less than (0x200*setup_sects)".
    const at = KERNEL_VERSION_BASE + fields.kernel_version;
    kernelVersion =
      at < setupSize ? cString(bytes, at, Math.min(MAX_KERNEL_VERSION_LEN, setupSize - at)) : undefined;
    if (kernelVersion === undefined) {
      warnings.push(
        `kernel_version 0x${fields.kernel_version.toString(16)} does not point at a string in the setup code`,
      );
    }
  }

  let payloadCompression: BzImage['payloadCompression'];
  if (fields.payload_offset !== undefined && fields.payload_length) {
    try {
      const payload = slice(protectedMode, fields.payload_offset, fields.payload_length, 'payload');
      payloadCompression = startsWith(payload, ELF_MAGIC) ? 'none' : detectCompression(payload);
      if (payloadCompression === undefined)
        warnings.push('payload compression not recognised from its magic');
    } catch (e) {
      if (!(e instanceof TruncatedError)) throw e;
      warnings.push(
        `payload 0x${fields.payload_offset.toString(16)}+0x${fields.payload_length.toString(16)} lies past the end of the file`,
      );
    }
  }

  const pe = parsePe(bytes);
  if (pe) warnings.push(...pe.warnings);
  return {
    header: fields,
    raw,
    protocol,
    setupSects,
    setupSize,
    kernelVersion,
    protectedMode,
    payloadCompression,
    pe,
    warnings,
  };
}
