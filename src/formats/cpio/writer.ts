// A minimal cpio "newc" writer (the format the kernel unpacks as initramfs, see
// Documentation/driver-api/early-userspace/buffer-format.rst). Device nodes and root-owned files need
// no root and no staging tree; file data is streamed from disk. Used by the lab and by
// `kexec-ts kdump build-initrd`.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { FileError } from '../../errors.js';

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; mode?: number; source: string }
  | { kind: 'bytes'; path: string; mode?: number; data: Uint8Array | string }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; mode?: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function header(ino: number, mode: number, size: number, name: string, rmaj = 0, rmin = 0): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, rmaj, rmin, nameBytes.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1');
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))]);
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Writes `entries` as one newc archive (with TRAILER!!!) to `out`, which is not ended; returns the byte count. */
export async function writeCpioStream(out: Writable, entries: readonly CpioEntry[]): Promise<number> {
  let written = 0;
  const put = async (b: Buffer) => {
    written += b.length;
    if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (e.kind === 'dir') await put(header(ino++, S_IFDIR | (e.mode ?? 0o755), 0, name));
    else if (e.kind === 'symlink') {
      const t = Buffer.from(e.target, 'utf8');
      await put(header(ino++, S_IFLNK | 0o777, t.length, name));
      await put(Buffer.concat([t, Buffer.alloc(pad4(t.length))]));
    } else if (e.kind === 'chardev') {
      await put(header(ino++, S_IFCHR | (e.mode ?? 0o600), 0, name, e.major, e.minor));
    } else if (e.kind === 'bytes') {
      const d = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : Buffer.from(e.data);
      await put(header(ino++, S_IFREG | (e.mode ?? 0o644), d.length, name));
      await put(Buffer.concat([d, Buffer.alloc(pad4(d.length))]));
    } else {
      const st = await stat(e.source);
      await put(header(ino++, S_IFREG | (e.mode ?? st.mode & 0o7777), st.size, name));
      await pipeFile(e.source, out, st.size);
      written += st.size;
      await put(Buffer.alloc(pad4(st.size)));
    }
  }
  await put(header(0, 0, 0, 'TRAILER!!!'));
  // Pad to 512 like GNU cpio, so a following concatenated archive starts aligned.
  await put(Buffer.alloc((512 - (written % 512)) % 512));
  return written;
}

/** Writes `entries` as one newc archive to `outPath`; returns the byte count. */
export async function writeCpio(outPath: string, entries: readonly CpioEntry[]): Promise<number> {
  const out = createWriteStream(outPath);
  const written = await writeCpioStream(out, entries);
  out.end();
  await finished(out);
  return written;
}

async function pipeFile(source: string, out: Writable, size: number): Promise<void> {
  let seen = 0;
  for await (const chunk of createReadStream(source)) {
    const b = chunk as Buffer;
    seen += b.length;
    if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  if (seen !== size)
    throw new FileError(source, 'EAGAIN', {
      hint: `${source} changed size while archiving (${size} -> ${seen} bytes): retry`,
    });
}
