// `kexec-ts vmcore info|dmesg [FILE]`: read a dump (default /proc/vmcore) without loading it whole.
// The command's table is src/cli/commands/vmcore.ts; this is what its run() calls.
import { FormatError } from '../errors.js';
import type { Io } from '../sys/io.js';

export interface VmcoreShowOptions {
  /** An ELF vmcore, or a kdump-compressed file or -F stream, any page compression. */
  path: string;
  json: boolean;
}

/** `info`: layout, notes, registers, VMCOREINFO, panic line. `dmesg`: the kernel log. */
export async function vmcoreShow(what: 'info' | 'dmesg', o: VmcoreShowOptions, io: Io): Promise<number> {
  // Each command loads only its own modules: `save` in a capture kernel skips the readers of
  // kdump-compressed files, and info/dmesg skip the writers.
  const [{ openFileReader }, { openDump }, { formatSummary, summarizeVmcore }, dmesg, { logSource }] =
    await Promise.all([
      import('./file-reader.js'),
      import('./dump.js'),
      import('./info.js'),
      import('./dmesg/index.js'),
      import('./dmesg/source.js'),
    ]);
  const reader = openFileReader(o.path);
  try {
    const vm = openDump(reader);
    if (what === 'info') {
      const s = summarizeVmcore(vm);
      io.stdout(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatSummary(s));
      return 0;
    }
    const src = logSource(vm);
    if (!src) {
      throw new FormatError(`${o.path}: no VMCOREINFO note`, 'vmcore', undefined, {
        hint: 'the log can only be found through the symbols VMCOREINFO exports',
      });
    }
    const log = dmesg.readKernelLog(src);
    io.stdout(
      o.json
        ? `${JSON.stringify(log.records.filter((r) => !r.wrap).map(jsonRecord))}\n`
        : dmesg.formatKernelLog(log),
    );
    return 0;
  } finally {
    reader.close();
  }
}

function jsonRecord(r: { seq?: bigint; tsNsec: bigint; text: Uint8Array; callerId?: number }) {
  return {
    ...(r.seq === undefined ? {} : { seq: Number(r.seq) }),
    ts_nsec: Number(r.tsNsec),
    ...(r.callerId === undefined ? {} : { caller_id: r.callerId }),
    text: Buffer.from(r.text).toString('latin1'),
  };
}
