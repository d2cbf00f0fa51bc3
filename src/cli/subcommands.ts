// Subcommands: what kexec-tools lacks. Each is loaded on demand so `kexec-ts -e` stays cheap.
import { writeFileSync } from 'node:fs';
import { FileError, UsageError } from '../errors.js';
import type { Io } from '../sys/io.js';
import type { Sys } from '../sys/types.js';

export interface SubcommandContext {
  io: Io;
  getSys(): Promise<Sys>;
  /** Where `inspect --extract-vmlinux` writes; default fs.writeFileSync (tests inject a map). */
  writeFile?: (path: string, data: Uint8Array) => void;
}
export type Subcommand = (argv: string[], ctx: SubcommandContext) => Promise<number>;

function takeFlag(argv: string[], flag: string): boolean {
  const i = argv.indexOf(flag);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}

const INSPECT_USAGE = `Usage: kexec-ts inspect FILE... [--json] [--members]
       kexec-ts inspect --extract-vmlinux BZIMAGE -o OUT
Describe kernel images (bzImage, ELF, UKI, EFI zboot, arm64/riscv64 Image, multiboot) and initramfs files.
  --json             machine-readable output
  --members          list every initramfs member, not only the summary
  --extract-vmlinux  decompress a bzImage's payload and write the vmlinux ELF to OUT
`;

/** `--opt VALUE` or `--opt=VALUE`; removes it from argv. */
function takeValue(argv: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    for (const n of names) {
      if (a === n) {
        const v = argv[i + 1];
        if (v === undefined) throw new UsageError(`inspect: option '${n}' requires an argument`);
        argv.splice(i, 2);
        return v;
      }
      if (a.startsWith(`${n}=`)) {
        argv.splice(i, 1);
        return a.slice(n.length + 1);
      }
    }
  }
  return undefined;
}

const inspect: Subcommand = async (argv, { io, getSys, writeFile }) => {
  const args = [...argv];
  const json = takeFlag(args, '--json');
  const members = takeFlag(args, '--members');
  const extract = takeFlag(args, '--extract-vmlinux');
  const out = takeValue(args, '-o', '--output');
  if (takeFlag(args, '--help') || takeFlag(args, '-h')) {
    io.stdout(INSPECT_USAGE);
    return 0;
  }
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown) throw new UsageError(`inspect: unrecognized option '${unknown}'`);
  if (args.length === 0)
    throw new UsageError('inspect: no file given', { hint: 'kexec-ts inspect /boot/vmlinuz' });
  const sys = await getSys();
  if (extract) {
    if (args.length !== 1 || out === undefined)
      throw new UsageError('inspect --extract-vmlinux takes one bzImage and -o OUT', {
        hint: 'kexec-ts inspect --extract-vmlinux /boot/vmlinuz -o vmlinux',
      });
    const { extractVmlinux } = await import('../formats/bzimage/extract.js');
    const r = extractVmlinux(sys.readFile(args[0]!));
    (writeFile ?? defaultWriteFile)(out, r.vmlinux);
    const summary = { file: args[0], output: out, compression: r.compression, size: r.vmlinux.byteLength };
    io.stdout(
      json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `${out}: vmlinux (ELF x86_64, ${r.vmlinux.byteLength} bytes) from a ${r.compression} payload\n`,
    );
    return 0;
  }
  if (out !== undefined) throw new UsageError('inspect: -o is only for --extract-vmlinux');
  const { inspectImage, formatImageInfo } = await import('../formats/inspect.js');
  const infos = args.map((path) => ({ path, ...inspectImage(sys.readFile(path), path, { members }) }));
  if (json) io.stdout(`${JSON.stringify(infos.length === 1 ? infos[0] : infos, null, 2)}\n`);
  else io.stdout(`${infos.map((i) => `${i.path}:\n${formatImageInfo(i)}`).join('\n\n')}\n`);
  return 0;
};

function defaultWriteFile(path: string, data: Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new FileError(path, (e as NodeJS.ErrnoException).code ?? 'EIO', { cause: e });
  }
}

const DOCTOR_USAGE = `Usage: kexec-ts doctor [--json]
Can this machine kexec? Kernel options, syscalls, permissions, lockdown and Secure Boot, the crashkernel=
reservation and what is loaded, each with a hint when it is not ready. Reads only; loads nothing.
`;

const doctor: Subcommand = async (argv, { io, getSys }) => {
  const args = [...argv];
  if (takeFlag(args, '--help') || takeFlag(args, '-h')) {
    io.stdout(DOCTOR_USAGE);
    return 0;
  }
  const json = takeFlag(args, '--json');
  if (args.length > 0) throw new UsageError(`doctor: unexpected argument '${args[0]}'`);
  const { runDoctor, formatDoctor } = await import('../kexec/doctor.js');
  const report = runDoctor(await getSys());
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
  return 0;
};

const lab: Subcommand = async (argv, { io }) => {
  const { labCommand } = await import('../lab/command.js');
  return labCommand(argv, io);
};

const vmcore: Subcommand = async (argv, { io }) => {
  const { vmcoreCommand } = await import('../kdump/command.js');
  return vmcoreCommand(argv, io);
};

const kdump: Subcommand = async (argv, { io, getSys }) => {
  const { kdumpCommand } = await import('../kdump/service/command.js');
  return kdumpCommand(argv, { io, getSys });
};

export const SUBCOMMANDS: Record<string, Subcommand> = {
  inspect,
  doctor,
  lab,
  vmcore,
  kdump,
};
