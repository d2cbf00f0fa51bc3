// `kdump save`, run by the capture kernel's /init: the kernel log first (small, and readable even when
// the dump cannot be written whole), then the dump, both into TARGET/<crash time>/, then the ACTION.
// Each file is written under a temporary name, fsynced and renamed, as `vmcore save` does.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileError, KexecError, UsageError } from '../../errors.js';
import { LINUX_REBOOT_CMD_POWER_OFF, LINUX_REBOOT_CMD_RESTART, type Sys } from '../../sys/types.js';
import { formatKernelLog, readKernelLog } from '../dmesg/index.js';
import type { RandomAccessReader } from '../reader.js';
import { writeKdumpCompressed } from '../save/kdump-writer.js';
import { openFileSink } from '../save/sink.js';
import { saveElfVmcore } from '../save.js';
import { openElfVmcore } from '../vmcore-elf.js';
import type { Action, KdumpConfig } from './config.js';

export interface ServiceSaveResult {
  dir: string;
  /** Files in the order they were completed (dmesg.txt before vmcore). */
  files: { name: string; bytes: number; ms: number }[];
  /** What went wrong but did not stop the save (dmesg unreadable, a dump level lowered by the filter). */
  warnings: string[];
}

/** YYYYMMDD-HHMMSS in UTC, from the dump's CRASHTIME (else now), as kdump-tools names its directories. */
export function dumpDirName(crashTime: number | undefined, now: Date = new Date()): string {
  const d = crashTime !== undefined && Number.isFinite(crashTime * 1000) ? new Date(crashTime * 1000) : now;
  const t = Number.isNaN(d.getTime()) ? now : d;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}-${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
}

function writeDurable(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (e) {
    throw new FileError(tmp, (e as NodeJS.ErrnoException).code ?? 'EIO', { cause: e });
  }
  try {
    for (let w = 0; w < data.byteLength; ) w += writeSync(fd, data, w, data.byteLength - w);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A fresh directory under `base`: NAME, else NAME.1, NAME.2, ... (two crashes within a second). */
function freshDir(base: string, name: string): string {
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new FileError(base, (e as NodeJS.ErrnoException).code ?? 'EIO', { cause: e });
  }
  for (let i = 0; ; i++) {
    const dir = join(base, i === 0 ? name : `${name}.${i}`);
    if (existsSync(dir)) continue;
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }
}

export function kdumpSave(
  reader: RandomAccessReader,
  cfg: KdumpConfig,
  base: string,
  opts: { now?: Date; log?: (line: string) => void } = {},
): ServiceSaveResult {
  const log = opts.log ?? (() => {});
  const vm = openElfVmcore(reader);
  const dir = freshDir(base, dumpDirName(vm.vmcoreinfo?.crashTime, opts.now));
  const result: ServiceSaveResult = { dir, files: [], warnings: [] };
  log(`kdump save: writing to ${dir}`);
  const t0 = performance.now();
  let text: string;
  try {
    if (!vm.vmcoreinfo) throw new UsageError('no VMCOREINFO note: the kernel log cannot be found');
    text = formatKernelLog(readKernelLog({ mem: vm, le: vm.header.endian === 'le', info: vm.vmcoreinfo }));
  } catch (e) {
    if (!(e instanceof KexecError)) throw e;
    result.warnings.push(`dmesg: ${e.message}`);
    text = `kexec-ts: the kernel log could not be read: ${e.message}\n`;
  }
  const bytes = Buffer.from(text, 'latin1');
  writeDurable(join(dir, 'dmesg.txt'), bytes);
  result.files.push({ name: 'dmesg.txt', bytes: bytes.byteLength, ms: performance.now() - t0 });
  log(`kdump save: dmesg.txt ${bytes.byteLength} bytes`);
  let last = 0;
  const onProgress = (done: number, total: number) => {
    const pct = Math.floor((done / total) * 10);
    if (pct > last) log(`kdump save: vmcore ${pct * 10}%`);
    last = pct;
  };
  const dest = join(dir, 'vmcore');
  const t1 = performance.now();
  if (cfg.format === 'kdump') {
    // FORMAT=kdump: makedumpfile's format, written under a temporary name and renamed when complete.
    const sink = openFileSink(dest);
    try {
      const s = writeKdumpCompressed(vm, sink, {
        level: cfg.dumpLevel,
        compression: cfg.compression,
        onProgress,
        onWarning: (w) => {
          result.warnings.push(w);
          log(`kdump save: ${w}`);
        },
      });
      sink.commit();
      const ms = performance.now() - t1;
      result.files.push({ name: 'vmcore', bytes: s.bytes, ms });
      log(
        `kdump save: vmcore kdump-compressed (${cfg.compression}${s.compressor ? ` by ${s.compressor}` : ''}, level ${s.level}) ${s.bytes} bytes in ${(ms / 1000).toFixed(1)} s`,
      );
    } catch (e) {
      sink.abort(sink.written === 0 ? undefined : `${dest}.incomplete`);
      throw e;
    }
    return result;
  }
  const r = saveElfVmcore(vm, dest, { onProgress });
  result.files.push({ name: 'vmcore', bytes: r.bytes, ms: r.ms });
  log(`kdump save: vmcore ${r.bytes} bytes in ${(r.ms / 1000).toFixed(1)} s`);
  return result;
}

/** The ACTION after a save: sync, then reboot(2) through Sys. Returns only for `shell` or on failure. */
export function kdumpAction(sys: Sys, action: Action): void {
  if (action === 'shell') return;
  sys.sync();
  sys.reboot(action === 'poweroff' ? LINUX_REBOOT_CMD_POWER_OFF : LINUX_REBOOT_CMD_RESTART);
}
