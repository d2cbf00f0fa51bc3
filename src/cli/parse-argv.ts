// getopt_long semantics as kexec-tools relies on them: options and operands may be mixed (GNU
// permutation), short options cluster (-sl), long options take `=V` or the next word, a unique prefix of
// a long option is accepted (--comm=...), and `--` ends the options.
import { UsageError } from '../errors.js';
import { OPTIONS, type OptionSpec } from './options.js';

export interface ParsedOption {
  spec: OptionSpec;
  /** The spelling the user typed, e.g. `--append` or `-l`. */
  name: string;
  value?: string;
}

export interface ParsedArgv {
  options: ParsedOption[];
  operands: string[];
}

function findLong(name: string): OptionSpec {
  const exact = OPTIONS.find((o) => o.long.includes(name));
  if (exact) return exact;
  const matches = OPTIONS.filter((o) => o.long.some((l) => l.startsWith(name)));
  const distinct = new Set(matches.map((o) => o.long.find((l) => l.startsWith(name))));
  if (matches.length === 1 || (distinct.size === 1 && matches.length > 0)) return matches[0]!;
  if (matches.length > 1) {
    throw new UsageError(
      `option '--${name}' is ambiguous; possibilities: ${[...distinct].map((l) => `--${l}`).join(' ')}`,
    );
  }
  throw new UsageError(`unrecognized option '--${name}'`, { hint: 'run kexec-ts --help for the options' });
}

function findShort(ch: string): OptionSpec {
  const spec = OPTIONS.find((o) => o.short === ch);
  if (!spec)
    throw new UsageError(`invalid option -- '${ch}'`, { hint: 'run kexec-ts --help for the options' });
  return spec;
}

export function parseArgv(argv: readonly string[]): ParsedArgv {
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
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const spec = findLong(name);
      const full = `--${spec.long.find((l) => l.startsWith(name)) ?? name}`;
      if (spec.arg === 'required') {
        let value: string | undefined;
        if (eq >= 0) value = word.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        if (value === undefined) throw new UsageError(`option '${full}' requires an argument`);
        options.push({ spec, name: full, value });
      } else {
        if (eq >= 0) throw new UsageError(`option '${full}' doesn't allow an argument`);
        options.push({ spec, name: full });
      }
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const spec = findShort(word[j]!);
        if (spec.arg === 'required') {
          const rest = word.slice(j + 1);
          const value = rest.length > 0 ? rest : argv[++i];
          if (value === undefined) throw new UsageError(`option requires an argument -- '${word[j]}'`);
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
