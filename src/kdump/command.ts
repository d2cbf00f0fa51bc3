// `kexec-ts vmcore info|dmesg [FILE]`: read a dump (default /proc/vmcore) without loading it whole.
import type { Io } from '../cli/io.js';
import { FormatError, UsageError } from '../errors.js';

export const VMCORE_USAGE = `Usage: kexec-ts vmcore COMMAND [FILE]
  info [FILE] [--json]   layout, notes, CPU registers, VMCOREINFO, panic line
  dmesg [FILE]           the kernel log, formatted like vmcore-dmesg
                         (FILE: an ELF vmcore, or a kdump-compressed file or -F stream, any page compression)
  save [SRC] DEST [-d LEVEL] [-c|-l|-p|-z|-E] [-F] [--force] [--json] [--no-dmesg]
                         save the dump: -E (default) copies the ELF; -c (zlib), -l (LZO),
                         -p (snappy), -z/--zstd or -d LEVEL write makedumpfile's kdump-compressed
                         format (level 1: zero pages shared; no compression flag: raw pages,
                         as makedumpfile); DEST - writes the flattened format (-F) to stdout.
                         The kernel log goes to DEST.dmesg first.
FILE defaults to /proc/vmcore (in a kdump capture kernel).
`;

export async function vmcoreCommand(argv: string[], io: Io): Promise<number> {
  const args = [...argv];
  const json = take(args, '--json');
  const force = take(args, '--force');
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout(VMCORE_USAGE);
    return cmd === undefined ? 1 : 0;
  }
  // Each command loads only its own modules: `save` in a capture kernel skips the readers of
  // kdump-compressed files, and info/dmesg skip the writers.
  if (cmd === 'save') {
    const { saveCommand } = await import('./save/command.js');
    return saveCommand(rest, io, json, force);
  }
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown) throw new UsageError(`vmcore ${cmd}: unrecognized option '${unknown}'`);
  if (cmd !== 'info' && cmd !== 'dmesg' && cmd !== 'save') {
    throw new UsageError(`vmcore: unknown command '${cmd}'`, { hint: 'kexec-ts vmcore info|dmesg|save' });
  }
  const files = 1;
  if (rest.length > files) throw new UsageError(`vmcore ${cmd}: unexpected argument '${rest[files]}'`);
  const path = rest.length === files ? rest[0]! : '/proc/vmcore';
  const [{ openFileReader }, { openDump }, { formatSummary, summarizeVmcore }, dmesg, { logSource }] =
    await Promise.all([
      import('./file-reader.js'),
      import('./dump.js'),
      import('./info.js'),
      import('./dmesg/index.js'),
      import('./dmesg/source.js'),
    ]);
  const reader = openFileReader(path);
  try {
    const vm = openDump(reader);
    if (cmd === 'info') {
      const s = summarizeVmcore(vm);
      io.stdout(json ? `${JSON.stringify(s, null, 2)}\n` : formatSummary(s));
      return 0;
    }
    const src = logSource(vm);
    if (!src) {
      throw new FormatError(`${path}: no VMCOREINFO note`, 'vmcore', undefined, {
        hint: 'the log can only be found through the symbols VMCOREINFO exports',
      });
    }
    const log = dmesg.readKernelLog(src);
    io.stdout(
      json
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

function take(argv: string[], flag: string): boolean {
  const i = argv.indexOf(flag);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}
