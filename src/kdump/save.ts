// `vmcore save`: copy an ELF vmcore (default /proc/vmcore) to a file with bounded memory. Written under
// a temporary name, fsynced, renamed into place and the directory fsynced, so a crash or power loss
// during the copy never leaves a truncated file under the final name. All-zero chunks are skipped
// (the file stays sparse there) and the length is set at the end.
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError, UsageError } from '../errors.js';
import { PT_LOAD, PT_NOTE } from '../formats/elf/phdr.js';
import type { ElfVmcore } from './vmcore-elf.js';

/** Copy granularity: makedumpfile maps /proc/vmcore in 4 MiB windows; reads of this size are fast too. */
export const SAVE_CHUNK = 4 << 20;

export interface SaveResult {
  path: string;
  bytes: number;
  /** Bytes of all-zero chunks that were not written. */
  sparse: number;
  ms: number;
}

/** Where the ELF ends: the furthest of the header table and every segment's file bytes. */
export function elfExtent(vm: ElfVmcore): number {
  let end = Number(vm.header.e_phoff) + vm.header.e_phnum * vm.header.e_phentsize;
  for (const p of vm.phdrs) {
    if (p.p_type === PT_LOAD || p.p_type === PT_NOTE) end = Math.max(end, Number(p.p_offset + p.p_filesz));
  }
  return end;
}

export function saveElfVmcore(
  vm: ElfVmcore,
  dest: string,
  opts: { force?: boolean; chunk?: number; onProgress?: (done: number, total: number) => void } = {},
): SaveResult {
  if (existsSync(dest) && !opts.force) {
    throw new UsageError(`vmcore save: ${dest} exists`, { hint: 'choose a new name, or pass --force' });
  }
  const t0 = performance.now();
  const total = elfExtent(vm);
  const chunk = opts.chunk ?? SAVE_CHUNK;
  const tmp = join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (e) {
    throw new FileError(tmp, (e as NodeJS.ErrnoException).code ?? 'EIO', { cause: e });
  }
  let sparse = 0;
  // One reused buffer when the reader can fill it: a fresh 4 MiB array per chunk is garbage that held
  // ~100 MB of RSS before the GC got to it.
  const buf = vm.reader.readInto ? new Uint8Array(chunk) : undefined;
  try {
    for (let at = 0; at < total; at += chunk) {
      const n = Math.min(chunk, total - at);
      const data = buf ? buf.subarray(0, n) : vm.reader.read(at, n);
      if (buf) vm.reader.readInto?.(data, at);
      if (isZero(data)) sparse += data.byteLength;
      else for (let w = 0; w < data.byteLength; ) w += writeSync(fd, data, w, data.byteLength - w, at + w);
      opts.onProgress?.(at + data.byteLength, total);
    }
    ftruncateSync(fd, total);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, dest);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
  syncDir(dirname(dest));
  return { path: dest, bytes: total, sparse, ms: performance.now() - t0 };
}

/** memcmp against a zero buffer: ~6 GiB/s, far faster than a JS loop. */
function isZero(b: Uint8Array): boolean {
  if (ZERO.byteLength < b.byteLength) ZERO = Buffer.alloc(b.byteLength);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(ZERO.subarray(0, b.byteLength));
}
let ZERO = Buffer.alloc(0);

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
