// The kexec-ts command: kexec-tools options (-l, -e, -p, ...) behave as in kexec-tools; a first word
// naming a subcommand (inspect, doctor, lab, ...) runs that instead. Both come from tables (root.ts).
import { KexecError } from '../errors.js';
import { type Io, processIo } from '../sys/io.js';
import type { Sys } from '../sys/types.js';
import type { CommandContext } from './command.js';
import { exitCodeFor, reportError } from './report.js';
import { ROOT } from './root.js';
import { type ErrorFormat, jsonAsked, runCommand } from './run-command.js';

export interface MainContext {
  sys?: Sys;
  io?: Io;
  writeFile?: CommandContext['writeFile'];
}

async function defaultSys(): Promise<Sys> {
  const { realSys } = await import('../sys/index.js');
  return realSys();
}

export async function main(argv: readonly string[], ctx: MainContext = {}): Promise<number> {
  const io = ctx.io ?? processIo;
  const getSys = async () => ctx.sys ?? (await defaultSys());
  const format: ErrorFormat = { json: jsonAsked(argv) };
  try {
    const run = { io, getSys, ...(ctx.writeFile ? { writeFile: ctx.writeFile } : {}) };
    return await runCommand(ROOT, argv, run, [], format);
  } catch (err) {
    reportError(err, io, format.json);
    return (
      format.exitFor?.(err) ?? (err instanceof KexecError || err instanceof Error ? exitCodeFor(err) : 1)
    );
  }
}
