// `kexec-ts vmcore save`: a crash dump saved as makedumpfile saves it (kdump/save/command.ts does it).
// Option letters are makedumpfile's. -c, -l, -p and -z pick the page compression; the last one wins.
import { type SaveArgs, type SaveRequest, saveArgs } from '../../kdump/save/args.js';
import type { Compression } from '../../kdump/save/kdump-writer.js';
import { type Call, defineCommand, JSON_OPTION } from '../command.js';
import { parseArgv } from '../parse-argv.js';
import { commandValues } from '../values.js';

const COMPRESSION: Readonly<Record<string, Compression>> = { c: 'zlib', l: 'lzo', p: 'snappy', z: 'zstd' };

export const VMCORE_SAVE = defineCommand({
  name: 'save',
  summary: 'save the dump as makedumpfile does: ELF, kdump-compressed, filtered, split or flattened',
  usage: ['[SRC] DEST [OPTIONS]', '--split [OPTIONS] SRC DEST1 DEST2 [DEST...]', '-F [OPTIONS] [SRC] -'],
  description: [
    'Save a crash dump as makedumpfile does. SRC defaults to /proc/vmcore; DEST - writes the flattened ' +
      'format to stdout. The kernel log goes to DEST.dmesg first, so it survives a dump that fails. The ' +
      'file is written under a temporary name, fsynced and renamed; a failed kdump-compressed dump is kept ' +
      'as DEST.incomplete (its header flagged incomplete), a failed ELF is removed.',
  ],
  options: [
    {
      id: 'dumpLevel',
      long: ['dump-level'],
      short: 'd',
      arg: 'N',
      help:
        "exclude pages (bit mask, makedumpfile's levels): 1 zero, 2 cache, 4 cache with private, 8 user, " +
        '16 free; implies kdump-compressed output unless -E',
    },
    { id: 'c', long: [], short: 'c', help: 'kdump-compressed, zlib pages' },
    { id: 'l', long: [], short: 'l', help: 'kdump-compressed, LZO pages (needs liblzo2)' },
    { id: 'p', long: [], short: 'p', help: 'kdump-compressed, snappy pages' },
    { id: 'z', long: ['zstd'], short: 'z', help: 'kdump-compressed, zstd pages' },
    { id: 'kdump', long: ['kdump'], help: 'kdump-compressed, raw pages' },
    {
      id: 'elf',
      long: [],
      short: 'E',
      help: 'ELF (the default without the options above); with -d, a filtered ELF',
    },
    {
      id: 'flat',
      long: [],
      short: 'F',
      help: 'the flattened format (makedumpfile -F) to stdout: DEST must be -, which implies it',
    },
    { id: 'force', long: ['force'], help: 'replace an existing DEST' },
    { id: 'noDmesg', long: ['no-dmesg'], help: 'do not write DEST.dmesg' },
    { id: 'nonMmap', long: ['non-mmap'], help: 'read SRC with read() instead of mmap windows' },
    {
      id: 'split',
      long: ['split'],
      help:
        'SRC DEST1 DEST2 [...]: one dump in several files, each a pfn range (makedumpfile --split; crash ' +
        'opens them together, makedumpfile --reassemble joins them)',
    },
    { ...JSON_OPTION, help: 'progress as JSON lines on stderr and the result as JSON' },
  ],
  operands: [
    { name: 'SRC', arity: 'optional', default: '/proc/vmcore', complete: 'file', help: 'the dump to read' },
    {
      name: 'DEST',
      arity: 'some',
      noun: 'destination',
      example: 'kexec-ts vmcore save -d 1 -c /var/crash/vmcore',
      complete: 'file',
      help: 'the file to write; - for stdout (flattened)',
    },
  ],
  run: async (values, { io }, call) => {
    const args = saveArgs(saveRequest(values, call));
    const { saveCommand } = await import('../../kdump/save/command.js');
    return saveCommand(args, io);
  },
});

type SaveValues = Record<string, unknown> & { SRC: string; DEST: string[] };

function saveRequest(v: SaveValues, call: Pick<Call, 'parsed'>): SaveRequest {
  // The order matters only for the compression: makedumpfile takes the last of -c, -l, -p, -z.
  const picked = call.parsed.options.filter((o) => o.spec.id in COMPRESSION).at(-1);
  return {
    src: v.SRC,
    dests: v.DEST,
    dumpLevel: v['dumpLevel'] as string | undefined,
    compression: picked ? COMPRESSION[picked.spec.id] : undefined,
    kdump: v['kdump'] === true,
    elf: v['elf'] === true,
    flat: v['flat'] === true,
    split: v['split'] === true,
    force: v['force'] === true,
    json: v['json'] === true,
    dmesg: v['noDmesg'] !== true,
    mmap: v['nonMmap'] !== true,
  };
}

/** argv after `vmcore save` to what saveCommand() takes; `json`/`force` as if given (tests). */
export function parseSaveArgs(argv: readonly string[], json: boolean, force: boolean): SaveArgs {
  const parsed = parseArgv(argv, VMCORE_SAVE.options, 'vmcore save');
  const values = commandValues(VMCORE_SAVE, parsed, 'vmcore save') as SaveValues;
  const r = saveRequest(values, { parsed });
  return saveArgs({ ...r, json: r.json || json, force: r.force || force });
}
