// What `vmcore save` was asked for, combined by makedumpfile's rules into what saveCommand() does.
// Small on purpose: the command's table (src/cli/commands/vmcore-save.ts) loads it on every call.
import { UsageError } from '../../errors.js';
import type { Compression } from './kdump-writer.js';

export interface SaveArgs {
  src: string;
  dest: string;
  level: number | undefined;
  compression: Compression;
  elf: boolean;
  flat: boolean;
  force: boolean;
  json: boolean;
  dmesg: boolean;
  /** false: read() only (--non-mmap); true: mmap windows (a regular file or /proc/vmcore). */
  mmap: boolean;
  /** --split: the destination files, in pfn order (dest is the first; its .dmesg gets the log). */
  parts?: string[];
}

/** What the command line asked for, before the rules below combine it (src/cli/commands/vmcore-save.ts). */
export interface SaveRequest {
  /** SRC: /proc/vmcore when not given. */
  src: string;
  /** DEST, or with --split the parts in pfn order. */
  dests: readonly string[];
  /** -d N as typed; checked here (0 to 31, makedumpfile's DL_EXCLUDE_* bits). */
  dumpLevel: string | undefined;
  /** The last of -c, -l, -p, -z given, as makedumpfile takes the last; undefined for none. */
  compression: Compression | undefined;
  /** --kdump: kdump-compressed with raw pages. */
  kdump: boolean;
  /** -E */
  elf: boolean;
  /** -F */
  flat: boolean;
  split: boolean;
  force: boolean;
  json: boolean;
  /** false: --no-dmesg */
  dmesg: boolean;
  /** false: --non-mmap */
  mmap: boolean;
}

/** makedumpfile's rules: -d alone means kdump-compressed, DEST - means -F, -E takes -d only. */
export function saveArgs(r: SaveRequest): SaveArgs {
  const a: SaveArgs = {
    src: r.src,
    dest: '',
    level: undefined,
    compression: r.compression ?? 'none',
    elf: r.elf,
    flat: r.flat,
    force: r.force,
    json: r.json,
    dmesg: r.dmesg,
    mmap: r.mmap,
  };
  let kdump = r.kdump || r.flat || r.split || r.compression !== undefined;
  if (r.dumpLevel !== undefined) {
    const v = r.dumpLevel;
    if (!/^\d+$/.test(v) || Number(v) > 31) {
      throw new UsageError(`vmcore save: bad dump level '${v}'`, { hint: '-d takes 0 to 31' });
    }
    a.level = Number(v);
  }
  if (r.split) {
    // makedumpfile --split VMCORE DUMPFILE1 DUMPFILE2 [...]: the source is not optional there.
    if (r.dests.length < 2 || r.dests.includes('-')) {
      throw new UsageError('vmcore save --split takes SRC and two or more destination files', {
        hint: 'kexec-ts vmcore save --split -d 31 -l /proc/vmcore /var/crash/part1 /var/crash/part2',
      });
    }
    if (a.elf || a.flat) throw new UsageError('vmcore save --split writes kdump-compressed files only');
    a.parts = [...r.dests];
  } else if (r.dests.length > 1) {
    throw new UsageError(`vmcore save: unexpected argument '${r.dests[1]}'`, {
      hint: 'kexec-ts vmcore save --help',
    });
  }
  a.dest = r.dests[0]!;
  if (a.elf && kdump) {
    throw new UsageError('vmcore save: -E writes ELF, which cannot be compressed or flattened', {
      hint: '-E takes -d only; drop -c/-l/-p/-z/-F/--kdump',
    });
  }
  if (a.level !== undefined && !a.elf) kdump = true;
  if (a.dest === '-' && !a.flat) a.flat = kdump = true;
  if (a.dest === '-' && a.elf) throw new UsageError('vmcore save: ELF output to stdout is not supported');
  if (!kdump) a.elf = true;
  return a;
}
