// Runs a command from its table: a group hands the rest of argv to the subcommand its first word names;
// a leaf parses argv, answers -h/--help from the table (before anything touches the kernel), and calls
// run() with the typed values.
import { UsageError } from '../errors.js';
import { type Command, type CommandContext, HELP_OPTION } from './command.js';
import { renderHelp } from './help.js';
import { parseArgv } from './parse-argv.js';
import { commandValues } from './values.js';

/** How an error should be reported: as JSON when the command that failed was asked for JSON. */
export interface ErrorFormat {
  json: boolean;
  /** Command.exitFor of the deepest command reached that has one. */
  exitFor?: (err: unknown) => number | undefined;
}

/** Before a parse succeeds, `--json` is taken as asked for when it stands before any `--`. */
export function jsonAsked(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

export async function runCommand(
  cmd: Command,
  argv: readonly string[],
  ctx: CommandContext,
  path: readonly string[] = [cmd.name],
  format: ErrorFormat = { json: jsonAsked(argv) },
): Promise<number> {
  const prog = path.join(' ');
  if (cmd.exitFor) format.exitFor = cmd.exitFor;
  const first = argv[0];
  const sub = first === undefined ? undefined : cmd.subcommands.find((s) => s.name === first);
  if (sub) return runCommand(sub, argv.slice(1), ctx, [...path, sub.name], format);
  const help = () => ctx.io.stdout(renderHelp(cmd, path));
  if (!cmd.run) {
    // A group: `kexec-ts vmcore` alone prints its help and fails, as `vmcore help` prints it and succeeds.
    if (first === undefined || first === 'help') {
      help();
      return first === undefined ? 1 : 0;
    }
    const parsed = parseArgv(argv, cmd.options, prog);
    if (parsed.options.some((o) => o.spec === HELP_OPTION)) {
      help();
      return 0;
    }
    throw new UsageError(`${prog}: unknown command '${parsed.operands[0] ?? first}'`, {
      hint: `kexec-ts ${prog} ${cmd.subcommands.map((s) => s.name).join('|')}`,
    });
  }
  const parsed = parseArgv(argv, cmd.options, prog);
  // A table that declares its own `help` (kexec-ts' kexec-tools options) answers it in run().
  if (parsed.options.some((o) => o.spec === HELP_OPTION)) {
    help();
    return 0;
  }
  const values = commandValues(cmd, parsed, prog);
  format.json = values['json'] === true;
  return cmd.run(values, ctx, { path, parsed });
}
