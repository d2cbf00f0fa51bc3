// `kexec-ts vmcore save [SRC] DEST [OPTIONS]` (its table: src/cli/commands/vmcore-save.ts), options as
// makedumpfile names them. Without -c, -l, -p, -z, -d or -F the ELF is copied as before (-E);
// -E with -d writes a filtered ELF; otherwise the output is kdump-compressed. DEST `-` writes the
// flattened format to stdout. The kernel log is extracted first to DEST.dmesg, so it survives a dump
// that fails half way. The source (/proc/vmcore or a copy) is read through mmap windows unless
// --non-mmap (makedumpfile's option name) asks for read().
import { renameSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../errors.js';
import { type Io, processIo } from '../../sys/io.js';
import { requirePageCodec } from '../compressed/codec.js';
import { formatKernelLog, readKernelLog } from '../dmesg/index.js';
import { openFileReader } from '../file-reader.js';
import { saveElfVmcore } from '../save.js';
import { openElfVmcore } from '../vmcore-elf.js';
import type { SaveArgs } from './args.js';
import { writeFilteredElf } from './elf-writer.js';
import { progressReporter } from './progress.js';
import { openFileSink, openFlatSink, type Sink, syncDir, tempNameFor } from './sink.js';

export async function saveCommand(a: SaveArgs, io: Io & { isTTY?: boolean }): Promise<number> {
  const toStdout = a.dest === '-';
  if (!toStdout && a.flat) {
    throw new UsageError('vmcore save: -F writes to stdout', {
      hint: 'use - as DEST: vmcore save -F -c SRC - | ssh ...',
    });
  }
  const dmesgPath = `${a.dest}.dmesg`;
  // A codec this runtime lacks (zstd on an old Node.js without libzstd) stops the save before any file.
  requirePageCodec(a.compression);
  const source = statOrUndefined(a.src);
  for (const d of toStdout ? [] : [...(a.parts ?? [a.dest]), dmesgPath]) {
    const dest = statOrUndefined(d);
    if (dest === undefined) continue;
    // Same device and inode: DEST is SRC itself, through a symlink or a hard link. --force would replace
    // the only copy of the dump with a half-written one, so it is refused before anything is written.
    if (source !== undefined && dest.dev === source.dev && dest.ino === source.ino) {
      throw new UsageError(`vmcore save: ${d} is the source ${a.src}`, {
        hint: 'write the dump to another file; the source would be lost',
      });
    }
    if (!a.force && d !== dmesgPath) {
      throw new UsageError(`vmcore save: ${d} exists`, { hint: 'choose a new name, or pass --force' });
    }
  }
  const report = (s: string) => (toStdout ? io.stderr(s) : io.stdout(s));
  // mmap also for a regular file (a saved copy), as makedumpfile does: pages are then written or
  // compressed straight from the mapping instead of being copied by read() first.
  const reader = openFileReader(a.src, { mmap: a.mmap });
  try {
    const vm = openElfVmcore(reader);
    let logLines: number | undefined;
    if (a.dmesg && !toStdout && vm.vmcoreinfo) {
      try {
        const log = readKernelLog({ mem: vm, le: vm.header.endian === 'le', info: vm.vmcoreinfo });
        const tmp = tempNameFor(dmesgPath);
        writeFileSync(tmp, formatKernelLog(log), { mode: 0o600 });
        renameSync(tmp, dmesgPath);
        syncDir(dirname(dmesgPath));
        logLines = log.records.length;
      } catch (e) {
        io.stderr(`vmcore save: kernel log not extracted: ${(e as Error).message}\n`);
      }
    }
    if (a.elf && a.level !== undefined) {
      const sink = openFileSink(a.dest);
      try {
        const t0 = performance.now();
        const r = writeFilteredElf(vm, sink, {
          level: a.level,
          onWarning: (w) => io.stderr(`vmcore save: ${w}\n`),
        });
        sink.commit();
        const out = {
          path: a.dest,
          ...r,
          ms: Math.round(performance.now() - t0),
          dmesg: logLines === undefined ? null : dmesgPath,
        };
        report(
          a.json
            ? `${JSON.stringify(out)}\n`
            : `saved ${r.bytes} bytes as ELF (level ${r.level}, ${r.loads} PT_LOADs) to ${a.dest} in ${(out.ms / 1000).toFixed(1)} s\n`,
        );
        return 0;
      } catch (e) {
        sink.abort();
        throw e;
      }
    }
    // Progress goes to stderr: JSON lines with --json, a line rewritten in place on a terminal.
    const pageSize = Number(vm.vmcoreinfo?.pageSize ?? 4096) || 4096;
    const progressFor = () => {
      const tty = io.isTTY ?? (io === processIo && process.stderr.isTTY === true);
      const mode = a.json ? 'json' : tty ? 'tty' : 'off';
      return progressReporter({ mode, pageSize, write: (t) => io.stderr(t) });
    };
    if (a.elf) {
      // The ELF copy reports bytes; progress counts them in pages of the file.
      const progress = progressFor();
      const r = saveElfVmcore(vm, a.dest, {
        force: true,
        onProgress: (done, total) => progress(Math.ceil(done / pageSize), Math.ceil(total / pageSize)),
      });
      const mib = r.bytes / 2 ** 20;
      report(
        a.json
          ? `${JSON.stringify({ ...r, format: 'elf', dmesg: logLines === undefined ? null : dmesgPath })}\n`
          : `saved ${r.bytes} bytes to ${r.path} in ${(r.ms / 1000).toFixed(1)} s (${(mib / (r.ms / 1000)).toFixed(0)} MiB/s, ${(r.sparse / 2 ** 20).toFixed(0)} MiB zero)\n`,
      );
      return 0;
    }
    const level = a.level ?? 0;
    if (a.parts) {
      // Loaded only here, as the writer below: the ELF modes need none of the page compressors.
      const { saveSplit } = await import('./split-save.js');
      return saveSplit(vm, a.parts, {
        level,
        compression: a.compression,
        pread: (into, offset) => reader.readInto(into, offset),
        onWarning: (w) => io.stderr(`vmcore save: ${w}\n`),
        progress: progressFor,
        report: (stats, ms) =>
          report(
            a.json
              ? `${JSON.stringify({ parts: stats, ms: Math.round(ms), read: reader.method, dmesg: logLines === undefined ? null : dmesgPath })}\n`
              : `saved ${stats.reduce((n, s) => n + s.dumpablePages, 0)} pages in ${stats.length} parts as kdump-compressed ` +
                  `(${a.compression}, level ${stats[0]!.level}) to ${a.parts!.join(', ')}: ${stats.reduce((n, s) => n + s.bytes, 0)} bytes in ${(ms / 1000).toFixed(1)} s\n`,
          ),
      });
    }
    // Loaded only here: the ELF modes above need none of the page compressors (zlib, liblzo2).
    const { writeKdumpCompressed } = await import('./kdump-writer.js');
    const sink: Sink = toStdout ? openFlatSink(1) : openFileSink(a.dest);
    const t0 = performance.now();
    const progress = progressFor();
    try {
      const stats = writeKdumpCompressed(vm, sink, {
        level,
        compression: a.compression,
        onProgress: progress,
        onWarning: (w) => io.stderr(`vmcore save: ${w}\n`),
        pread: (into, offset) => reader.readInto(into, offset),
      });
      sink.commit();
      if (reader.fallback) io.stderr(`vmcore save: read() used, mmap failed: ${reader.fallback}\n`);
      const ms = performance.now() - t0;
      const out = {
        path: a.dest,
        ...stats,
        ms: Math.round(ms),
        read: reader.method,
        dmesg: logLines === undefined ? null : dmesgPath,
      };
      report(
        a.json
          ? `${JSON.stringify(out)}\n`
          : `saved ${stats.dumpablePages} pages (${stats.zeroPages} zero) as kdump-compressed ` +
              `(${a.compression}${stats.compressor ? ` by ${stats.compressor}` : ''}, level ${stats.level}) to ${a.dest}: ${stats.bytes} bytes in ${(ms / 1000).toFixed(1)} s\n`,
      );
      return 0;
    } catch (e) {
      const kept = sink.abort(toStdout || sink.written === 0 ? undefined : `${a.dest}.incomplete`);
      if (kept) io.stderr(`vmcore save: failed; the partial dump (header flag INCOMPLETE) is ${kept}\n`);
      throw e;
    }
  } finally {
    reader.close();
  }
}

/** stat(2), following symlinks; undefined when the path does not exist (or cannot be reached). */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
