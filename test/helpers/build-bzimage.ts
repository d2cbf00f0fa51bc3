// Synthetic bzImages built from the same struct tables the parser reads (never hand-edited bytes).

import {
  BOOT_FLAG_MAGIC,
  LOADED_HIGH,
  SECTOR_SIZE,
  SetupHeader,
  type SetupHeaderRaw,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_KERNEL_64,
} from '../../src/formats/bzimage/setup-header.js';
import {
  DataDirent,
  MzHeader,
  PE_OPT_MAGIC_PE32PLUS,
  Pe32PlusOptTail,
  PeHeader,
  PeOptMagic,
  WinCertificate,
} from '../../src/formats/pe/pe.js';

export interface BzImageSpec {
  version?: number;
  xloadflags?: number;
  loadflags?: number;
  setup_sects?: number;
  kernelVersion?: string | undefined;
  /** The compressed kernel, placed at payload_offset inside the protected-mode part. */
  payload?: Uint8Array;
  /** Add an "MZ" + PE32+ header (the EFI stub). */
  pe?: boolean;
  /** Append a WIN_CERTIFICATE and point the certificate directory at it (implies pe). */
  signed?: boolean;
  /** Any other header field, written last. */
  fields?: Partial<SetupHeaderRaw>;
  /** Bytes of protected-mode code before the payload. */
  payloadOffset?: number;
}

/** Where the builder stores the version string: in the setup code after the header. */
export const KERNEL_VERSION_AT = 0x300;
const PE_AT = 0x80;

export function buildBzImage(spec: BzImageSpec = {}): Uint8Array {
  const setupSects = spec.setup_sects ?? 4;
  const setupSize = ((setupSects === 0 ? 4 : setupSects) + 1) * SECTOR_SIZE;
  const payload = spec.payload ?? Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
  const payloadOffset = spec.payloadOffset ?? 0x40;
  const cert = spec.signed ? 64 : 0;
  const size = setupSize + payloadOffset + payload.byteLength + cert;
  const buf = new Uint8Array(size);
  SetupHeader.encode(
    {
      setup_sects: setupSects,
      boot_flag: BOOT_FLAG_MAGIC,
      jump: 0x66eb,
      header: 'HdrS',
      version: spec.version ?? 0x020f,
      kernel_version: spec.kernelVersion === undefined ? 0 : KERNEL_VERSION_AT - 0x200,
      loadflags: spec.loadflags ?? LOADED_HIGH,
      code32_start: 0x100000,
      kernel_alignment: 0x200000,
      relocatable_kernel: 1,
      min_alignment: 21,
      xloadflags: spec.xloadflags ?? XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
      cmdline_size: 2047,
      payload_offset: payloadOffset,
      payload_length: payload.byteLength,
      pref_address: 0x1000000n,
      init_size: 0x2000000,
      ...spec.fields,
    },
    buf,
  );
  if (spec.kernelVersion !== undefined) {
    for (let i = 0; i < spec.kernelVersion.length; i++)
      buf[KERNEL_VERSION_AT + i] = spec.kernelVersion.charCodeAt(i);
  }
  buf.set(payload, setupSize + payloadOffset);
  if (spec.pe || spec.signed) writePe(buf, spec.signed ? size - cert : 0, cert);
  return buf;
}

/** A minimal PE32+ header at PE_AT with 5 data directories; certificate table at certAt if certSize. */
function writePe(buf: Uint8Array, certAt: number, certSize: number): void {
  MzHeader.encode({ magic: 0x5a4d, peaddr: PE_AT }, buf);
  const optSize = 112 + 5 * DataDirent.size;
  PeHeader.encode({ magic: 'PE', machine: 0x8664, sections: 0, opt_hdr_size: optSize }, buf, PE_AT);
  const opt = PE_AT + PeHeader.size;
  PeOptMagic.encode({ magic: PE_OPT_MAGIC_PE32PLUS }, buf, opt);
  Pe32PlusOptTail.encode({ data_dirs: 5 }, buf, opt);
  if (certSize > 0) {
    DataDirent.encode({ virtual_address: certAt, size: certSize }, buf, opt + 112 + 4 * DataDirent.size);
    WinCertificate.encode({ length: certSize, revision: 0x0200, cert_type: 2 }, buf, certAt);
  }
}
