// A tiny cpio "newc" writer for recogniser tests, using the parser's own header table.
import { CpioNewcHeader } from '../../src/formats/cpio/newc.js';

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Math.ceil(n / 4) * 4;

export function buildCpio(files: { name: string; data?: Uint8Array; mode?: number }[]): Uint8Array {
  const entries = [...files, { name: 'TRAILER!!!', data: new Uint8Array(0), mode: 0 }];
  const parts: Uint8Array[] = [];
  let ino = 1;
  for (const f of entries) {
    const data = f.data ?? new Uint8Array(0);
    const name = new TextEncoder().encode(`${f.name}\0`);
    const head = new Uint8Array(pad4(CpioNewcHeader.size + name.byteLength));
    CpioNewcHeader.encode(
      {
        c_magic: '070701',
        c_ino: hex8(ino++),
        c_mode: hex8(f.mode ?? 0o100644),
        c_uid: hex8(0),
        c_gid: hex8(0),
        c_nlink: hex8(1),
        c_mtime: hex8(0),
        c_filesize: hex8(data.byteLength),
        c_maj: hex8(0),
        c_min: hex8(0),
        c_rmaj: hex8(0),
        c_rmin: hex8(0),
        c_namesize: hex8(name.byteLength),
        c_chksum: hex8(0),
      },
      head,
    );
    head.set(name, CpioNewcHeader.size);
    const body = new Uint8Array(pad4(data.byteLength));
    body.set(data);
    parts.push(head, body);
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
