// `kexec-ts vmcore info|dmesg [FILE]`: read a dump (default /proc/vmcore) without loading it whole.

import { FormatError, UsageError } from '../errors.js';
import type { Io } from '../sys/io.js';

export const VMCORE_USAGE = `Usage: kexec-ts vmcore COMMAND [FILE]
  info [FILE] [--json]   layout, notes, CPU registers, VMCOREINFO, panic line
  dmesg [FILE] [--json]  the kernel log, formatted like vmcore-dmesg
                         (FILE: an ELF vmcore, or a kdump-compressed file or -F stream, any page compression)
  save [SRC] DEST [-d LEVEL] [-c|-l|-p|-z|-E] [--force] [--json] [--no-dmesg] [--non-mmap]
                         save the dump (kexec-ts vmcore save --help for the options)
FILE defaults to /proc/vmcore (in a kdump capture kernel).
`;

export const SAVE_USAGE = `Usage: kexec-ts vmcore save [SRC] DEST [options]
Save a crash dump as makedumpfile does. SRC defaults to /proc/vmcore; DEST - writes the flattened
format to stdout. The kernel log goes to DEST.dmesg first, so it survives a dump that fails. The file is
written under a temporary name, fsynced and renamed; a failed kdump-compressed dump is kept as
DEST.incomplete (its header flagged incomplete), a failed ELF is removed.
  -d, --dump-level N  exclude pages (bit mask, makedumpfile's levels): 1 zero, 2 cache, 4 cache
                      with private, 8 user, 16 free; implies kdump-compressed output unless -E
  -c                  kdump-compressed, zlib pages
  -l                  kdump-compressed, LZO pages (needs liblzo2)
  -p                  kdump-compressed, snappy pages
  -z, --zstd          kdump-compressed, zstd pages
  --kdump             kdump-compressed, raw pages
  -E                  ELF (the default without the options above); with -d, a filtered ELF
  -F                  the flattened format (makedumpfile -F) to stdout: DEST must be -, which
                      implies it
  --force             replace an existing DEST
  --no-dmesg          do not write DEST.dmesg
  --non-mmap          read SRC with read() instead of mmap windows
  --split             SRC DEST1 DEST2 [...]: one dump in several files, each a pfn range
                      (makedumpfile --split; crash opens them together, makedumpfile --reassemble
                      joins them)
  --json              progress as JSON lines on stderr and the result as JSON
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
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(cmd === 'save' ? SAVE_USAGE : VMCORE_USAGE);
    return 0;
  }
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
