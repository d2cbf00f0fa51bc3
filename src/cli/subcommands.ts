// Subcommands: what kexec-tools lacks. Each is loaded on demand so `kexec-ts -e` stays cheap.
import { UsageError } from '../errors.js';
import type { Sys } from '../sys/types.js';
import type { Io } from './io.js';

export interface SubcommandContext {
  io: Io;
  getSys(): Promise<Sys>;
}
export type Subcommand = (argv: string[], ctx: SubcommandContext) => Promise<number>;

function takeFlag(argv: string[], flag: string): boolean {
  const i = argv.indexOf(flag);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}

const inspect: Subcommand = async (argv, { io, getSys }) => {
  const args = [...argv];
  const json = takeFlag(args, '--json');
  if (takeFlag(args, '--help') || takeFlag(args, '-h')) {
    io.stdout('Usage: kexec-ts inspect FILE... [--json]\nDescribe kernel images and initramfs files.\n');
    return 0;
  }
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown) throw new UsageError(`inspect: unrecognized option '${unknown}'`);
  if (args.length === 0)
    throw new UsageError('inspect: no file given', { hint: 'kexec-ts inspect /boot/vmlinuz' });
  const { inspectImage, formatImageInfo } = await import('../formats/inspect.js');
  const sys = await getSys();
  const infos = args.map((path) => ({ path, ...inspectImage(sys.readFile(path), path) }));
  if (json) io.stdout(`${JSON.stringify(infos.length === 1 ? infos[0] : infos, null, 2)}\n`);
  else io.stdout(infos.map((i) => `${i.path}:\n${formatImageInfo(i)}`).join('\n'));
  return 0;
};

const doctor: Subcommand = async (argv, { io, getSys }) => {
  const args = [...argv];
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

const notYet =
  (name: string): Subcommand =>
  async () => {
    throw new UsageError(`${name} is not implemented in this version of kexec-ts`);
  };

export const SUBCOMMANDS: Record<string, Subcommand> = {
  inspect,
  doctor,
  lab,
  vmcore: notYet('vmcore'),
  kdump: notYet('kdump'),
};
