// An InitramfsTree's entries as one cpio newc archive (the format the kernel unpacks as initramfs):
// records through src/formats/cpio/writer.ts, file data read from the host through Sys a chunk at a time,
// optionally compressed. Device nodes and root-owned files need no root and no staging tree.
import { createWriteStream } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { FileError, KexecError } from '../errors.js';
import { zstdCodec } from '../formats/compress/zstd.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from '../formats/cpio/newc.js';
import { newcHeader, newcPadding, newcTrailer } from '../formats/cpio/writer.js';
import { realSys } from '../sys/index.js';
import type { Sys } from '../sys/types.js';
import type { CpioEntry } from './tree.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export interface ArchiveOptions {
  /** Reads the `file` entries' sources; default the real one. */
  sys?: Sys;
  /** The archive is padded to a multiple of this: 512 (default) as GNU cpio, so a next one starts aligned. */
  block?: number;
}

export interface WriteOptions extends ArchiveOptions {
  compression?: Compression;
  /** The file is padded to a multiple of this (the kernel wants an archive after a compressed one at 4). */
  align?: number;
  /** Permission bits of the written file (default 0644). */
  mode?: number;
}

export interface WriteResult {
  /** Bytes of the file. */
  bytes: number;
  /** Bytes of the cpio archive before compression. */
  unpacked: number;
}

const CHUNK = 1 << 20;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The archive's bytes in order: per entry its header, data and padding; then the trailer and padding. */
export function* newcChunks(entries: readonly CpioEntry[], opts: ArchiveOptions = {}): Generator<Uint8Array> {
  const sys = opts.sys ?? realSys();
  let written = 0;
  const emit = (b: Uint8Array) => {
    written += b.byteLength;
    return b;
  };
  let ino = 1;
  for (const e of entries) {
    const head = { ino: ino++, name: e.path.replace(/^\/+/, ''), uid: e.uid ?? 0, gid: e.gid ?? 0 };
    let data: Uint8Array | undefined;
    if (e.kind === 'dir') yield emit(newcHeader({ ...head, mode: S_IFDIR | (e.mode ?? 0o755), filesize: 0 }));
    else if (e.kind === 'chardev' || e.kind === 'blockdev') {
      const type = e.kind === 'chardev' ? S_IFCHR : S_IFBLK;
      const dev = { rmajor: e.major, rminor: e.minor };
      yield emit(newcHeader({ ...head, ...dev, mode: type | (e.mode ?? 0o600), filesize: 0 }));
    } else if (e.kind === 'symlink') {
      data = utf8(e.target);
      yield emit(newcHeader({ ...head, mode: S_IFLNK | 0o777, filesize: data.byteLength }));
    } else if (e.kind === 'bytes') {
      data = typeof e.data === 'string' ? utf8(e.data) : e.data;
      yield emit(newcHeader({ ...head, mode: S_IFREG | (e.mode ?? 0o644), filesize: data.byteLength }));
    } else {
      const st = sys.fileStat(e.source, true);
      if (st?.kind !== 'file') throw new FileError(e.source, st ? 'EISDIR' : 'ENOENT');
      yield emit(newcHeader({ ...head, mode: S_IFREG | (e.mode ?? st.mode), filesize: st.size }));
      let seen = 0;
      for (let chunk = sys.readRange(e.source, 0, CHUNK); chunk.byteLength > 0; ) {
        seen += chunk.byteLength;
        if (seen > st.size) break;
        yield emit(chunk);
        chunk = sys.readRange(e.source, seen, CHUNK);
      }
      if (seen !== st.size)
        throw new FileError(e.source, 'EAGAIN', {
          hint: `${e.source} changed size while archiving (${st.size} -> ${seen} bytes): retry`,
        });
      yield emit(newcPadding(seen));
    }
    if (data)
      yield emit(data.byteLength % 4 ? new Uint8Array([...data, ...newcPadding(data.byteLength)]) : data);
  }
  yield emit(newcTrailer());
  const block = opts.block ?? 512;
  yield emit(new Uint8Array((block - (written % block)) % block));
}

/** The archive in memory (small images: test fixtures, extra archives for a lab boot). */
export function encodeCpio(entries: readonly CpioEntry[], opts: ArchiveOptions = {}): Uint8Array {
  return Buffer.concat([...newcChunks(entries, opts)]);
}

/** Writes the archive to `out`, which is not ended; returns its byte count. */
export async function writeCpioStream(
  out: Writable,
  entries: readonly CpioEntry[],
  opts: ArchiveOptions = {},
): Promise<number> {
  let n = 0;
  for (const chunk of newcChunks(entries, opts)) {
    n += chunk.byteLength;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  return n;
}

function compressor(how: Compression): Transform | undefined {
  if (how === 'gzip') return zlib.createGzip({ level: 6 });
  if (how === 'none') return undefined;
  // node:zlib's zstd on Node.js >= 22.15, else the system's libzstd; StateError when neither is there.
  return zstdCodec().compressStream();
}

/**
 * Writes the archive to the file `output` (through a temporary file beside it, renamed when complete, so
 * a failed write leaves no partial image), compressed as asked.
 */
export async function writeCpio(
  output: string,
  entries: readonly CpioEntry[],
  opts: WriteOptions = {},
): Promise<WriteResult> {
  const tmp = join(dirname(output), `.${basename(output)}.tmp-${process.pid}`);
  const file = createWriteStream(tmp, { mode: opts.mode ?? 0o644 });
  try {
    // pipeline() carries a write error (ENOSPC) back here instead of an unhandled 'error' event.
    const pass = new PassThrough();
    const z = compressor(opts.compression ?? 'none');
    const done = z ? pipeline(pass, z, file) : pipeline(pass, file);
    const writing = writeCpioStream(pass, entries, opts).then((n) => {
      pass.end();
      return n;
    });
    const [unpacked] = await Promise.all([writing, done]);
    let bytes = (await stat(tmp)).size;
    const align = opts.align ?? 1;
    if (bytes % align) {
      await writeFile(tmp, new Uint8Array(align - (bytes % align)), { flag: 'a' });
      bytes += align - (bytes % align);
    }
    await rename(tmp, output);
    return { bytes, unpacked };
  } catch (e) {
    file.destroy();
    await rm(tmp, { force: true });
    if (e instanceof KexecError) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') throw new FileError(tmp, code, { cause: e });
    throw e;
  }
}
