// Man pages rendered from the command tables, as --help is (help.ts), so neither can drift from what the
// parser accepts: kexec-ts(8) for kexec-ts itself, and one page per top-level command, its subcommands
// included (kexec-ts-vmcore(8) describes vmcore info, dmesg and save). The roff is plain man(7) macros:
// .TH .SH .SS .TP .PP .B .I .nf/.fi; groff -ww -man gives no warning on any page (a unit test runs it).
import type { Command, OperandSpec, OptionSpec } from './command.js';
import { metavar, operandHelp, optionHelp, optionSections, usageLines, VERSION } from './help.js';

export interface ManPage {
  /** `kexec-ts-vmcore` */
  name: string;
  section: 1 | 8;
  /** `kexec-ts-vmcore.8` */
  file: string;
  text: string;
}

/** Text as roff reads it: backslashes escaped, no line starting with a control character. */
export function roffText(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** A literal word (option, command, path), its hyphens minus signs so that it can be typed back. */
export function roffLiteral(s: string): string {
  return roffText(s).replace(/-/g, '\\-');
}

/** `\fB\-o\fR, \fB\-\-output\fR=\fIOUT\fR` */
function optionTag(o: OptionSpec): string {
  const v = metavar(o);
  const value = (sep: string) => (v ? `${sep}\\fI${roffLiteral(v)}\\fR` : '');
  const short = o.short
    ? `\\fB\\-${roffLiteral(o.short)}\\fR${o.long.length === 0 ? value(' ') : ''}`
    : undefined;
  const longs = o.long.map((l) => `\\fB\\-\\-${roffLiteral(l)}\\fR${value('=')}`);
  return [short, ...longs].filter(Boolean).join(', ');
}

/** A synopsis line: the command's words in bold, what follows as typed. */
function synopsis(path: readonly string[], usage: string): string[] {
  return ['.PP', `\\fB${roffLiteral(['kexec-ts', ...path].join(' '))}\\fR ${roffLiteral(usage)}`.trimEnd()];
}

function paragraphs(ps: readonly string[] | undefined): string[] {
  return (ps ?? []).flatMap((p) =>
    p.includes('\n') ? ['.PP', '.nf', roffText(p), '.fi'] : ['.PP', roffText(p)],
  );
}

function optionList(cmd: Command, heading: (h: string) => string[]): string[] {
  const out: string[] = [];
  for (const [title, opts] of optionSections(cmd)) {
    out.push(...heading(title));
    for (const o of opts) out.push('.TP', optionTag(o), roffText(optionHelp(o)));
  }
  return out;
}

/** OPTIONS, with a subsection per help heading when the table has headings (kexec-ts' own). */
function optionsSection(cmd: Command): string[] {
  const single = optionSections(cmd).length === 1;
  return ['.SH OPTIONS', ...optionList(cmd, (t) => (single ? [] : [`.SS ${roffText(t)}`]))];
}

function operandList(operands: readonly OperandSpec[]): string[] {
  return operands
    .filter((s) => s.help)
    .flatMap((s) => ['.TP', `\\fI${roffLiteral(s.name)}\\fR`, roffText(operandHelp(s))]);
}

/** The leaves of a command, each with its path: a command without subcommands is its own leaf. */
function leaves(cmd: Command, path: readonly string[]): [Command, string[]][] {
  if (cmd.subcommands.length === 0 || cmd.run) return [[cmd, [...path]]];
  return cmd.subcommands.flatMap((s) => leaves(s, [...path, s.name]));
}

function header(name: string, section: number, date: string, summary: string): string[] {
  return [
    `.TH ${name.toUpperCase().replace(/-/g, '\\-')} ${section} ${date} "kexec-ts ${VERSION}" "kexec-ts manual"`,
    '.SH NAME',
    `${roffLiteral(name)} \\- ${roffText(summary)}`,
  ];
}

function exitAndSeeAlso(cmd: Command, also: readonly string[]): string[] {
  const out: string[] = [];
  const exits = [
    ...(cmd.exitStatus ?? []),
    // A group's page describes its subcommands, so their statuses too; kexec-ts(8) leaves them to theirs.
    ...(cmd.run ? [] : cmd.subcommands.flatMap((s) => (s.exitStatus ?? []).map((e) => `${s.name}: ${e}`))),
  ];
  if (exits.length) out.push('.SH EXIT STATUS', ...exits.flatMap((e) => ['.PP', roffText(e)]));
  const refs = [...also, ...(cmd.seeAlso ?? [])].map((r) => {
    const m = /^(.+)\((\d)\)$/.exec(r);
    // \% at the start: a page name is never hyphenated.
    return m ? `.BR \\%${roffLiteral(m[1]!)} (${m[2]})` : roffText(r);
  });
  if (refs.length) {
    // `.BR name (8)` lines, a comma after each but the last, as man-pages(7) lists them.
    out.push('.SH SEE ALSO', ...refs.map((r, i) => (i < refs.length - 1 ? `${r},` : r)));
  }
  return out;
}

const pageName = (path: readonly string[]) => ['kexec-ts', ...path].join('-');
const sectionOf = (cmd: Command) => cmd.manSection ?? 8;

/** The page of a top-level command and everything under it. */
export function commandPage(cmd: Command, date: string, root?: Command): ManPage {
  const path = [cmd.name];
  const name = pageName(path);
  const section = sectionOf(cmd);
  const out = header(name, section, date, cmd.summary);
  out.push('.SH SYNOPSIS');
  for (const [leaf, p] of leaves(cmd, path)) for (const u of usageLines(leaf)) out.push(...synopsis(p, u));
  out.push('.SH DESCRIPTION', ...paragraphs(cmd.description));
  if (cmd.run) {
    if (cmd.operands.some((s) => s.help)) out.push('.SH ARGUMENTS', ...operandList(cmd.operands));
    out.push(...optionsSection(cmd));
  } else {
    out.push('.SH COMMANDS');
    for (const [leaf, p] of leaves(cmd, path)) {
      out.push(`.SS ${roffLiteral(p.slice(1).join(' '))}`);
      for (const u of usageLines(leaf)) out.push(...synopsis(p, u));
      out.push('.PP', roffText(`${leaf.summary[0]!.toUpperCase()}${leaf.summary.slice(1)}.`));
      out.push(...paragraphs(leaf.description));
      out.push(...operandList(leaf.operands));
      // Every leaf takes -h; the group says so once instead.
      const own = { ...leaf, options: leaf.options.filter((o) => o.id !== 'help') };
      out.push(
        ...optionList(own, (t) => (t === 'Options' ? ['.PP', 'Options:'] : ['.PP', `${roffText(t)}:`])),
      );
      out.push(...paragraphs(leaf.notes));
    }
    out.push(
      '.PP',
      `Every command takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR: its usage, from the same table as this page.`,
    );
  }
  out.push(...paragraphs(cmd.notes));
  out.push(...exitAndSeeAlso(cmd, root ? [`kexec-ts(${sectionOf(root)})`] : []));
  return { name, section, file: `${name}.${section}`, text: `${out.join('\n')}\n` };
}

/** kexec-ts(8): kexec-ts' own options, and each command with a pointer to its page. */
export function rootPage(root: Command, date: string): ManPage {
  const section = sectionOf(root);
  const out = header('kexec-ts', section, date, root.summary);
  out.push('.SH SYNOPSIS');
  for (const u of usageLines(root)) out.push(...synopsis([], u));
  out.push('.SH DESCRIPTION', ...paragraphs(root.description));
  out.push(...operandList(root.operands));
  out.push(...optionsSection(root));
  out.push('.SH COMMANDS');
  for (const c of root.subcommands) {
    out.push('.TP', `\\fB${roffLiteral(c.name)}\\fR`);
    out.push(`${roffText(c.summary)}; see \\fB\\%${roffLiteral(pageName([c.name]))}\\fR(${sectionOf(c)}).`);
  }
  out.push(...paragraphs(root.notes));
  const pages = root.subcommands.map((c) => `${pageName([c.name])}(${sectionOf(c)})`);
  out.push(...exitAndSeeAlso(root, [...pages, 'kexec(8)']));
  return { name: 'kexec-ts', section, file: `kexec-ts.${section}`, text: `${out.join('\n')}\n` };
}

/** Every page: kexec-ts(8) first, then one per command, in the order kexec-ts(8) lists them. */
export function manPages(root: Command, date: string): ManPage[] {
  return [rootPage(root, date), ...root.subcommands.map((c) => commandPage(c, date, root))];
}
