// What a shell needs to know of each command to complete it, taken from the command tables: the words
// that lead to it, its subcommands, its options (flags, and those that take a value with how the value
// is completed), and how each operand is completed. bash.ts and zsh.ts write it out as shell code.
import { type Command, type Completion, takesValue, walkCommands } from '../command.js';

/** How a value is completed: a Completion kind, or one of a list of words (an option's choices). */
export type ValueAction = { kind: Completion } | { words: readonly string[] };

export interface CompletionOption {
  /** Every spelling: `-o`, `--output`. */
  spellings: string[];
  help: string;
  /** Absent for a flag. */
  value?: ValueAction;
}

export interface CompletionNode {
  /** `['vmcore', 'save']`; `[]` for kexec-ts itself. */
  path: string[];
  subcommands: { name: string; summary: string }[];
  options: CompletionOption[];
  /** Each operand's completion in order; the last repeats when `repeats`. */
  operands: ValueAction[];
  repeats: boolean;
}

function action(kind: Completion | undefined, choices: readonly string[] | undefined, dflt: Completion) {
  return choices ? { words: choices } : { kind: kind ?? dflt };
}

export function completionNodes(root: Command): CompletionNode[] {
  return [...walkCommands(root)].map(([cmd, path]) => {
    // A group's options are those of its help only; its operands are its subcommands' names.
    const last = cmd.operands.at(-1);
    return {
      path,
      subcommands: cmd.subcommands.map((s) => ({ name: s.name, summary: s.summary })),
      options: cmd.options.map((o) => ({
        spellings: [...(o.short ? [`-${o.short}`] : []), ...o.long.map((l) => `--${l}`)],
        help: o.help,
        ...(takesValue(o) ? { value: action(o.complete, o.choices, 'none') } : {}),
      })),
      operands: cmd.operands.map((s) => action(s.complete, s.choices, 'file')),
      repeats: last?.arity === 'many' || last?.arity === 'some',
    };
  });
}

/** A word in single quotes for sh, bash and zsh alike. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** An action as one shell word: the kind (`file`), or `=` and the words (`=gzip,zstd,none`). */
export function actionWord(a: ValueAction): string {
  return 'kind' in a ? a.kind : `=${a.words.join(',')}`;
}

/**
 * The shell functions both shells share (their syntax is common to bash and zsh): `_kexec_ts_node PATH`
 * sets what the command at PATH has (subcommands, flags, options with a value, operand actions, whether
 * the last operand repeats); `_kexec_ts_value PATH OPTION` sets `_kt_act`, how that option's value is
 * completed; `_kexec_ts_takes WORD` says whether the word after WORD is an option's value, and sets
 * `_kt_opt` to that option. `extra(node)` adds shell-specific lines to each case.
 */
export function sharedFunctions(root: Command, extra: (n: CompletionNode) => string[] = () => []): string {
  const nodes = completionNodes(root);
  const spell = (n: CompletionNode, value: boolean) =>
    n.options.filter((o) => (o.value !== undefined) === value).flatMap((o) => o.spellings);
  const cases = nodes.map((n) =>
    [
      `    ${shQuote(n.path.join(' '))})`,
      `      _kt_subs=${shQuote(n.subcommands.map((s) => s.name).join(' '))}`,
      `      _kt_flags=${shQuote(spell(n, false).join(' '))}`,
      `      _kt_vals=${shQuote(spell(n, true).join(' '))}`,
      `      _kt_ops=${shQuote(n.operands.map(actionWord).join(' '))}`,
      `      _kt_rep=${n.repeats ? 1 : "''"}`,
      ...extra(n).map((l) => `      ${l}`),
      '      ;;',
    ].join('\n'),
  );
  const values = nodes.flatMap((n) =>
    n.options
      .filter((o) => o.value !== undefined)
      .map(
        (o) =>
          `    ${o.spellings.map((s) => shQuote(`${n.path.join(' ')}|${s}`)).join('|')}) _kt_act=${shQuote(actionWord(o.value!))} ;;`,
      ),
  );
  return `# Where KERNEL and --initrd values are looked for first.
_kexec_ts_boot=\${_kexec_ts_boot:-/boot}

_kexec_ts_node() {
  case $1 in
${cases.join('\n')}
    *) _kt_subs='' _kt_flags='' _kt_vals='' _kt_ops='' _kt_rep='' ;;
  esac
}

_kexec_ts_value() {
  case "$1|$2" in
${values.join('\n')}
    *) _kt_act=none ;;
  esac
}

_kexec_ts_takes() {
  local w=$1 j c
  if [[ $w == --* ]]; then
    [[ $w != *=* && " $_kt_vals " == *" $w "* ]] || return 1
    _kt_opt=$w
    return 0
  fi
  # A cluster of short options (-cd): a value follows only when its last letter takes one.
  for (( j = 1; j < \${#w}; j++ )); do
    c=-\${w:$j:1}
    if [[ " $_kt_vals " == *" $c "* ]]; then
      (( j == \${#w} - 1 )) || return 1
      _kt_opt=$c
      return 0
    fi
  done
  return 1
}
`;
}
