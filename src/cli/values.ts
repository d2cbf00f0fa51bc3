// From parsed argv to the values run() receives: defaults filled in, choices checked, operands assigned
// to their names by arity. Every message starts with the command's path, as the parser's do.
import { UsageError } from '../errors.js';
import { type Command, type OperandSpec, takesValue } from './command.js';
import type { ParsedArgv } from './parse-argv.js';

/** `a, b or c` */
export function orList(words: readonly string[]): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function checkChoice(prog: string, name: string, choices: readonly string[] | undefined, value: string) {
  if (choices && !choices.includes(value)) {
    throw new UsageError(`${prog}: ${name} takes ${orList(choices)}, not '${value}'`);
  }
}

export function commandValues(cmd: Command, parsed: ParsedArgv, prog: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const o of cmd.options) {
    if (o.id === 'help' || o.id in values) continue;
    values[o.id] = takesValue(o) ? (o.repeatable ? [] : o.default) : o.repeatable ? 0 : false;
  }
  for (const { spec, name, value } of parsed.options) {
    if (value === undefined) values[spec.id] = spec.repeatable ? (values[spec.id] as number) + 1 : true;
    else {
      checkChoice(prog, name, spec.choices, value);
      values[spec.id] = spec.repeatable ? [...(values[spec.id] as string[]), value] : value;
    }
  }
  if (!cmd.ownOperands) Object.assign(values, assignOperands(cmd.operands, parsed.operands, prog));
  return values;
}

const least = (s: OperandSpec) => (s.arity === undefined || s.arity === 'one' || s.arity === 'some' ? 1 : 0);

/** Left to right; an optional operand is filled only when the words left exceed what later ones need. */
function assignOperands(specs: readonly OperandSpec[], words: readonly string[], prog: string) {
  const out: Record<string, string | string[] | undefined> = {};
  const help = `kexec-ts ${prog} --help`;
  let i = 0;
  specs.forEach((s, k) => {
    const needLater = specs.slice(k + 1).reduce((n, t) => n + least(t), 0);
    const left = words.length - i - needLater;
    const count =
      s.arity === 'many' || s.arity === 'some' ? Math.max(left, 0) : s.arity === 'optional' ? +(left > 0) : 1;
    if (count < least(s) || i + count > words.length) {
      throw new UsageError(`${prog}: no ${s.noun ?? s.name.toLowerCase()} given`, {
        hint: s.example ?? help,
      });
    }
    const taken = words.slice(i, i + count);
    i += count;
    for (const w of taken) checkChoice(prog, s.name, s.choices, w);
    out[s.name] = s.arity === 'many' || s.arity === 'some' ? taken : (taken[0] ?? s.default);
  });
  if (i < words.length) throw new UsageError(`${prog}: unexpected argument '${words[i]}'`, { hint: help });
  return out;
}
