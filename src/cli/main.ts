// The kexec-ts command: kexec-tools options (-l, -e, -p, ...) behave as in kexec-tools; a first word
// naming a subcommand (inspect, doctor, lab, ...) runs that instead.
import { KexecError } from '../errors.js';
import { type Io, processIo } from '../sys/io.js';
import type { Sys } from '../sys/types.js';
import { helpText, VERSION_TEXT } from './help.js';
import { resolveInvocation } from './invocation.js';
import { parseArgv } from './parse-argv.js';
import { exitCodeFor, reportError } from './report.js';
import { SUBCOMMANDS } from './subcommands.js';

export interface MainContext {
  sys?: Sys;
  io?: Io;
}

async function defaultSys(): Promise<Sys> {
  const { realSys } = await import('../sys/index.js');
  return realSys();
}

export async function main(argv: readonly string[], ctx: MainContext = {}): Promise<number> {
  const io = ctx.io ?? processIo;
  const getSys = async () => ctx.sys ?? (await defaultSys());
  try {
    const sub = argv[0] === undefined ? undefined : SUBCOMMANDS[argv[0]];
    if (sub) return await sub(argv.slice(1), { io, getSys });
    const inv = resolveInvocation(parseArgv(argv));
    if (inv.mode === 'help') {
      io.stdout(helpText());
      return 0;
    }
    if (inv.mode === 'version') {
      io.stdout(`${VERSION_TEXT}\n`);
      return 0;
    }
    // Loaded here, not at the top: subcommands (vmcore save in a capture kernel) skip the kexec stack.
    const { runKexec } = await import('./run-kexec.js');
    return runKexec(inv, await getSys(), io);
  } catch (err) {
    reportError(err, io, argv.includes('--json'));
    return err instanceof KexecError || err instanceof Error ? exitCodeFor(err) : 1;
  }
}
