// Extract the vmlinux ELF from a bzImage (`kexec-ts inspect --extract-vmlinux`), like the kernel's
// scripts/extract-vmlinux but from the header instead of a magic scan. boot.rst, "Details of Header
// Fields": payload_offset/payload_length (protocol 2.08+) locate the compressed kernel inside the
// protected-mode part; "The uncompressed payload is currently always ELF". The build appends the
// uncompressed size (le32) to every payload (arch/x86/boot/compressed/Makefile, size_append; for gzip
// it is the stream's own ISIZE), so it is stripped before decoding all formats but gzip.
import { slice } from '../../binary/bounds.js';
import { FormatError } from '../../errors.js';
import { DEFAULT_MAX_OUTPUT, decompress } from '../compress/decompress.js';
import { decodeElfHeader, EM_X86_64, isElf } from '../elf/ehdr.js';
import { type BzImage, parseBzImage } from './parse.js';

/** The size_append trailer: 4 bytes, little-endian (scripts/Makefile.lib, size_append). */
export const SIZE_APPEND_LEN = 4;

export interface ExtractedVmlinux {
  vmlinux: Uint8Array;
  compression: string;
  /** The size the build recorded at the end of the payload. */
  declaredSize: number;
}

/** Decompress the payload of a bzImage and check it is an x86_64 ELF. */
export function extractVmlinux(bytes: Uint8Array, maxOutput = DEFAULT_MAX_OUTPUT): ExtractedVmlinux {
  const bz: BzImage = parseBzImage(bytes);
  const h = bz.header;
  if (h.payload_offset === undefined || !h.payload_length) {
    throw new FormatError(
      'bzImage has no payload_offset/payload_length (boot protocol < 2.08)',
      'bzImage',
      0x248,
      {
        hint: "use the kernel's scripts/extract-vmlinux, which scans for compression magics",
      },
    );
  }
  // payload_offset is relative to the start of the protected-mode code (boot.rst), which begins after
  // the (setup_sects + 1) sectors of real-mode code; slice() refuses a range outside the file.
  const payload = slice(bz.protectedMode, h.payload_offset, h.payload_length, 'payload');
  const kind = bz.payloadCompression;
  if (kind === undefined)
    throw new FormatError('payload compression not recognised from its magic', 'bzImage');
  if (payload.byteLength < SIZE_APPEND_LEN)
    throw new FormatError('payload is shorter than its size trailer', 'bzImage');
  const declaredSize = new DataView(payload.buffer, payload.byteOffset + payload.byteLength - 4, 4).getUint32(
    0,
    true,
  );
  // An uncompressed payload (CONFIG_KERNEL_UNCOMPRESSED) is the ELF itself, with no trailer to strip.
  let vmlinux: Uint8Array;
  if (kind === 'none') vmlinux = payload;
  else {
    const stream = kind === 'gzip' ? payload : payload.subarray(0, payload.byteLength - SIZE_APPEND_LEN);
    vmlinux = decompress(stream, maxOutput, kind);
  }
  if (!isElf(vmlinux))
    throw new FormatError(`the ${kind} payload does not decode to an ELF`, 'bzImage', undefined, {
      hint: 'boot.rst: "The uncompressed payload is currently always ELF"',
    });
  const ehdr = decodeElfHeader(vmlinux);
  if (ehdr.e_machine !== EM_X86_64)
    throw new FormatError(`vmlinux e_machine is ${ehdr.e_machine}, not EM_X86_64 (62)`, 'elf');
  // The trailer is what the kernel's own decompressor trusts for the output size (mkpiggy's
  // z_output_len), so a mismatch means a damaged payload even when the stream decoded.
  if (kind !== 'none' && vmlinux.byteLength !== declaredSize)
    throw new FormatError(
      `vmlinux is ${vmlinux.byteLength} bytes, the payload trailer says ${declaredSize}`,
      'bzImage',
    );
  return { vmlinux, compression: kind, declaredSize };
}
