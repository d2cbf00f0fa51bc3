// getopt_long semantics as kexec-tools relies on them, for every command's table: options and operands
// may be mixed (GNU permutation), short options cluster (-sl), long options take `=V` or the next word,
// a unique prefix of a long option is accepted (--comm=...), and `--` ends the options.
import { UsageError } from '../errors.js';
import { type OptionSpec, takesValue } from './command.js';
import { type KexecOption, OPTIONS } from './options.js';

export interface ParsedOption<S extends OptionSpec = OptionSpec> {
  spec: S;
  /** The spelling the user typed, e.g. `--append` or `-l` (a long prefix is shown in full). */
  name: string;
  value?: string;
}

export interface ParsedArgv<S extends OptionSpec = OptionSpec> {
  options: ParsedOption<S>[];
  operands: string[];
}

class Table<S extends OptionSpec> {
  /** `prog`: the command's path for messages, '' for kexec-ts itself. */
  constructor(
    private readonly specs: readonly S[],
    private readonly prog: string,
  ) {}

  error(message: string, hint = true): UsageError {
    const help = `run kexec-ts ${this.prog ? `${this.prog} ` : ''}--help for the options`;
    return new UsageError(`${this.prog ? `${this.prog}: ` : ''}${message}`, hint ? { hint: help } : {});
  }

  long(name: string): { spec: S; full: string } {
    const exact = this.specs.find((o) => o.long.includes(name));
    if (exact) return { spec: exact, full: `--${name}` };
    const matches = this.specs.filter((o) => o.long.some((l) => l.startsWith(name)));
    const distinct = new Set(matches.map((o) => o.long.find((l) => l.startsWith(name))));
    if (matches.length === 1 || (distinct.size === 1 && matches.length > 0)) {
      return { spec: matches[0]!, full: `--${[...distinct][0]}` };
    }
    if (matches.length > 1) {
      throw this.error(
        `option '--${name}' is ambiguous; possibilities: ${[...distinct].map((l) => `--${l}`).join(' ')}`,
        false,
      );
    }
    throw this.error(`unrecognized option '--${name}'`);
  }

  short(ch: string): S {
    const spec = this.specs.find((o) => o.short === ch);
    if (!spec) throw this.error(`invalid option -- '${ch}'`);
    return spec;
  }
}

/** Parses argv against a command's option table (default: kexec-ts' own, the kexec-tools options). */
export function parseArgv(argv: readonly string[]): ParsedArgv<KexecOption>;
export function parseArgv<S extends OptionSpec>(
  argv: readonly string[],
  specs: readonly S[],
  prog?: string,
): ParsedArgv<S>;
export function parseArgv(
  argv: readonly string[],
  specs: readonly OptionSpec[] = OPTIONS,
  prog = '',
): ParsedArgv<OptionSpec> {
  const table = new Table(specs, prog);
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const { spec, full } = table.long(eq < 0 ? word.slice(2) : word.slice(2, eq));
      if (takesValue(spec)) {
        let value: string | undefined;
        if (eq >= 0) value = word.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        if (value === undefined) throw table.error(`option '${full}' requires an argument`, false);
        options.push({ spec, name: full, value });
      } else {
        if (eq >= 0) throw table.error(`option '${full}' doesn't allow an argument`, false);
        options.push({ spec, name: full });
      }
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const spec = table.short(word[j]!);
        if (takesValue(spec)) {
          const rest = word.slice(j + 1);
          const value = rest.length > 0 ? rest : argv[++i];
          if (value === undefined) throw table.error(`option requires an argument -- '${word[j]}'`, false);
          options.push({ spec, name: `-${word[j]}`, value });
          break;
        }
        options.push({ spec, name: `-${word[j]}` });
      }
      continue;
    }
    operands.push(word);
  }
  return { options, operands };
}
