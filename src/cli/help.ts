// --help of every command, rendered from its table so it cannot drift from what the parser accepts.
import { createRequire } from 'node:module';
import type { Command, OperandSpec, OptionSpec } from './command.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export const VERSION = pkg.version;
export const VERSION_TEXT = `kexec-ts ${VERSION} (kexec-tools 2.0.32 compatible options)`;

const WIDTH = 100;

export function metavar(o: OptionSpec): string | undefined {
  return o.arg ?? o.choices?.join('|');
}

/** `-o, --output=OUT`, `-d LEVEL`, `--json` */
export function spelling(o: OptionSpec): string {
  const v = metavar(o);
  const longs = o.long.map((l) => `--${l}${v ? `=${v}` : ''}`);
  const short = o.short ? `-${o.short}${v && o.long.length === 0 ? ` ${v}` : ''}` : undefined;
  return [short, ...longs].filter(Boolean).join(', ');
}

/** An option as a synopsis shows it: `-o OUT`, `--json`. */
export function brief(o: OptionSpec): string {
  const v = metavar(o);
  return `${o.short ? `-${o.short}` : `--${o.long[0]}`}${v ? ` ${v}` : ''}`;
}

export function operandToken(s: OperandSpec): string {
  switch (s.arity) {
    case 'optional':
      return `[${s.name}]`;
    case 'many':
      return `[${s.name}...]`;
    case 'some':
      return `${s.name}...`;
    default:
      return s.name;
  }
}

/** The synopsis lines after the command's path. */
export function usageLines(cmd: Command): readonly string[] {
  if (cmd.usage) return cmd.usage;
  if (cmd.subcommands.length > 0 && !cmd.run) return ['COMMAND [ARGS...]'];
  const opts = cmd.options.filter((o) => o.id !== 'help');
  const optionWords = opts.length > 3 ? ['[OPTIONS]'] : opts.map((o) => `[${brief(o)}]`);
  return [[...cmd.operands.map(operandToken), ...optionWords].join(' ')];
}

/** An option's help with what the table knows besides: its choices and its default. */
export function optionHelp(o: OptionSpec): string {
  // Choices without an arg name are the metavar already (`--compress=gzip|zstd|none`).
  const extra = [
    o.choices && o.arg ? `one of ${o.choices.join(', ')}` : undefined,
    o.default !== undefined ? `default ${o.default}` : undefined,
  ].filter(Boolean);
  return extra.length ? `${o.help} (${extra.join('; ')})` : o.help;
}

export function operandHelp(s: OperandSpec): string {
  return s.default !== undefined ? `${s.help ?? ''} (default ${s.default})`.trim() : (s.help ?? '');
}

/** Words filled into lines of at most WIDTH columns; a paragraph with newlines is kept as written. */
export function wrap(text: string, indent = 0, first = indent): string[] {
  if (text.includes('\n')) return text.split('\n').map((l) => ' '.repeat(indent) + l);
  const lines: string[] = [];
  let line = ' '.repeat(first);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The text column of a help page: after its longest left entry up to 28; longer ones get their own line. */
function column(rows: [string, string][]): number {
  return (Math.max(0, ...rows.map(([l]) => (l.length > 28 ? 0 : l.length))) || 20) + 4;
}

function table(rows: [string, string][], col: number): string[] {
  const lines: string[] = [];
  for (const [left, text] of rows) {
    const body = wrap(text, col);
    if (left.length + 4 <= col)
      lines.push(`  ${left.padEnd(col - 2)}${body[0]!.slice(col)}`, ...body.slice(1));
    else lines.push(...wrapSpellings(left), ...body);
  }
  return lines;
}

/** A long list of spellings (`--a, --b=V, ...`) broken after its commas only. */
function wrapSpellings(list: string): string[] {
  const lines = ['  '];
  for (const part of list.split(/(?<=,) /)) {
    const last = lines.length - 1;
    if (lines[last]!.trim() && lines[last]!.length + 1 + part.length > WIDTH) lines.push(`    ${part}`);
    else lines[last] += lines[last]!.trim() ? ` ${part}` : part;
  }
  return lines;
}

/** Options under their group's heading, in the order of Command.groups; ungrouped ones under "Options". */
export function optionSections(cmd: Command): [string, OptionSpec[]][] {
  const groups = Object.entries(cmd.groups ?? {});
  const known = new Set(groups.map(([k]) => k));
  const sections: [string, OptionSpec[]][] = groups.map(([k, heading]) => [
    heading,
    cmd.options.filter((o) => o.group === k),
  ]);
  sections.push(['Options', cmd.options.filter((o) => o.group === undefined || !known.has(o.group))]);
  return sections.filter(([, opts]) => opts.length > 0);
}

export function renderHelp(cmd: Command, path: readonly string[]): string {
  const prog = ['kexec-ts', ...path].join(' ');
  const out: string[] = [];
  if (cmd.banner) out.push(cmd.banner, '');
  usageLines(cmd).forEach((u, i) => {
    out.push(`${i === 0 ? 'Usage: ' : '       '}${prog} ${u}`.trimEnd());
  });
  for (const p of cmd.description ?? []) out.push('', ...wrap(p));
  const sections: [string, [string, string][]][] = [
    ['Commands', cmd.subcommands.map((s) => [s.name, s.summary])],
    ['Arguments', cmd.operands.filter((s) => s.help).map((s) => [s.name, operandHelp(s)])],
    ...optionSections(cmd).map(([heading, opts]): [string, [string, string][]] => [
      heading,
      opts.map((o) => [spelling(o), optionHelp(o)]),
    ]),
  ];
  const col = column(sections.flatMap(([, rows]) => rows));
  for (const [heading, rows] of sections)
    if (rows.length > 0) out.push('', `${heading}:`, ...table(rows, col));
  for (const p of cmd.notes ?? []) out.push('', ...wrap(p));
  if (cmd.exitStatus) out.push('', ...wrap(`Exit status: ${cmd.exitStatus.join(' ')}`));
  if (cmd.helpNow) out.push('', ...wrap(cmd.helpNow()));
  if (cmd.subcommands.length > 0) out.push('', `Run '${prog} COMMAND --help' for the options of each.`);
  return `${out.join('\n')}\n`;
}
