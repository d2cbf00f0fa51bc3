// A command is declared once, as a table: its options, operands and subcommands, with the words that
// describe them. The same table drives the parser (parse-argv.ts), --help (help.ts), the man pages
// (man.ts) and the shell completions (completion/); run() receives the values already parsed and typed.
// docs/cli.md, "Adding a command", shows how to write one.
import type { Io } from '../sys/io.js';
import type { Sys } from '../sys/types.js';
import type { ParsedArgv } from './parse-argv.js';

/**
 * How a shell completes a value or an operand: `file`, `dir`; `kernel` and `initrd`: the kernel images
 * and initramfs files under /boot, then any file; `entry`: the ids that `kexec-ts entries --ids` prints
 * (docs/cli.md, "Completion"); `none`: free text.
 */
export type Completion = 'none' | 'file' | 'dir' | 'kernel' | 'initrd' | 'entry';

export interface OptionSpec {
  /** The key of the option's value in what run() receives. Several specs may share one (aliases). */
  readonly id: string;
  /** Long names without the dashes (`['initrd', 'ramdisk']`); may be empty for a short-only option. */
  readonly long: readonly string[];
  readonly short?: string;
  /** The option takes a value, called this in help and man (`--initrd=FILE`). */
  readonly arg?: string;
  /** The value must be one of these; help lists them and the shell completes them. Implies a value. */
  readonly choices?: readonly string[];
  /** The value when the option is not given (help shows it). */
  readonly default?: string;
  /** Given more than once: a flag counts, a value option collects every value. Otherwise the last wins. */
  readonly repeatable?: boolean;
  readonly help: string;
  /** The help heading this option is listed under (a key of Command.groups). */
  readonly group?: string;
  /** How the shell completes the value; default `none`. */
  readonly complete?: Completion;
}

export interface OperandSpec {
  /** As help shows it: `FILE`. Also the key of its value in what run() receives. */
  readonly name: string;
  /** `one` (the default), `optional`, `many` (zero or more) or `some` (one or more). */
  readonly arity?: 'one' | 'optional' | 'many' | 'some';
  readonly help?: string;
  readonly default?: string;
  readonly choices?: readonly string[];
  /** Default `file`. */
  readonly complete?: Completion;
  /** The word in "no NOUN given"; default the name in lower case. */
  readonly noun?: string;
  /** A command line that works, given as the hint when the operand is missing. */
  readonly example?: string;
}

export interface CommandContext {
  readonly io: Io;
  getSys(): Promise<Sys>;
  /** Where a command writes a file the user asked for (inspect -o); default fs.writeFileSync. Tests inject. */
  readonly writeFile?: (path: string, data: Uint8Array) => void;
}

/** What run() gets besides the values: where it was called from, and the options in argv order. */
export interface Call {
  /** The words that led here: `[]` for kexec-ts itself, `['vmcore', 'save']`. */
  readonly path: readonly string[];
  readonly parsed: ParsedArgv;
}

type Erased = (values: Record<string, unknown>, ctx: CommandContext, call: Call) => number | Promise<number>;

export interface Command {
  readonly name: string;
  /** One line, lower case, no full stop: the command lists, the man page's NAME. */
  readonly summary: string;
  /** Synopsis lines after the command's path; default one line built from the options and operands. */
  readonly usage?: readonly string[];
  /** Paragraphs after the synopsis (help and man DESCRIPTION). */
  readonly description?: readonly string[];
  /** Paragraphs after the options. */
  readonly notes?: readonly string[];
  readonly options: readonly OptionSpec[];
  readonly operands: readonly OperandSpec[];
  readonly subcommands: readonly Command[];
  /** Headings for OptionSpec.group, in the order help lists them. */
  readonly groups?: Readonly<Record<string, string>>;
  /** Paragraphs of the man page's EXIT STATUS (and the end of --help). */
  readonly exitStatus?: readonly string[];
  /** A top-level command's man page section: 8 for administration (the default), 1 for user commands. */
  readonly manSection?: 1 | 8;
  /** Other man pages, `makedumpfile(8)`. */
  readonly seeAlso?: readonly string[];
  /** Printed above --help (the version line of kexec-ts itself). */
  readonly banner?: string;
  /** Appended to --help only, computed when asked (a path from the environment); not in the man page. */
  readonly helpNow?: () => string;
  /** run() checks the operand count itself (kexec-ts' own kexec-tools surface, resolveInvocation). */
  readonly ownOperands?: boolean;
  /**
   * The exit status of an error in this command or below, where it differs from report.ts' exitCodeFor()
   * (undefined: that one). The deepest command that has one decides.
   */
  readonly exitFor?: (err: unknown) => number | undefined;
  /** Absent for a group: then the first word names a subcommand. */
  readonly run?: Erased;
}

type TakesValue = { readonly arg: string } | { readonly choices: readonly string[] };
type OptionValue<S> = S extends TakesValue
  ? S extends { readonly repeatable: true }
    ? string[]
    :
        | (S extends { readonly choices: readonly (infer C extends string)[] } ? C : string)
        | (S extends { readonly default: string } ? never : undefined)
  : S extends { readonly repeatable: true }
    ? number
    : boolean;
type OperandValue<D> = D extends { readonly arity: 'many' | 'some' }
  ? string[]
  : D extends { readonly arity: 'optional' }
    ? D extends { readonly default: string }
      ? string
      : string | undefined
    : string;

/** What run() receives: each option by its id, each operand by its name. */
export type Values<O extends readonly OptionSpec[], P extends readonly OperandSpec[]> = {
  -readonly [S in O[number] as S['id']]: OptionValue<S>;
} & { -readonly [D in P[number] as D['name']]: OperandValue<D> };

export interface CommandDef<O extends readonly OptionSpec[], P extends readonly OperandSpec[]>
  extends Omit<Command, 'options' | 'operands' | 'subcommands' | 'run'> {
  readonly options?: O;
  readonly operands?: P;
  readonly subcommands?: readonly Command[];
  readonly run?: (values: Values<O, P>, ctx: CommandContext, call: Call) => number | Promise<number>;
}

/** -h, --help: added to every command whose table does not declare its own `help` option. */
export const HELP_OPTION: OptionSpec = {
  id: 'help',
  long: ['help'],
  short: 'h',
  help: 'print this help and exit',
};

/** --json, shared by the commands that print data. */
export const JSON_OPTION = {
  id: 'json',
  long: ['json'],
  help: 'print the result as JSON',
} as const satisfies OptionSpec;

export function takesValue(o: OptionSpec): boolean {
  return o.arg !== undefined || o.choices !== undefined;
}

export function defineCommand<
  const O extends readonly OptionSpec[] = [],
  const P extends readonly OperandSpec[] = [],
>(def: CommandDef<O, P>): Command {
  const { run, ...rest } = def;
  const options: readonly OptionSpec[] = def.options ?? [];
  return {
    ...rest,
    options: options.some((o) => o.id === 'help') ? options : [...options, HELP_OPTION],
    operands: def.operands ?? [],
    subcommands: def.subcommands ?? [],
    ...(run ? { run: run as unknown as Erased } : {}),
  };
}

/** Every command of a tree with its path, parents first: `[ROOT, []]`, `[VMCORE, ['vmcore']]`, ... */
export function* walkCommands(cmd: Command, path: readonly string[] = []): Generator<[Command, string[]]> {
  yield [cmd, [...path]];
  for (const sub of cmd.subcommands) yield* walkCommands(sub, [...path, sub.name]);
}
