// The zsh completion of kexec-ts, generated from the command tables (model.ts): the same walk as the
// bash one, with zsh's own completers (_describe with each option's and command's help, _files).
// Installed as /usr/share/zsh/vendor-completions/_kexec-ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { type CompletionNode, sharedFunctions, shQuote } from './model.js';

/** `word:description` for _describe, the description's colons escaped. */
const described = (word: string, help: string) => shQuote(`${word}:${help.replace(/:/g, '\\:')}`);

function extra(n: CompletionNode): string[] {
  const cmds = n.subcommands.map((s) => described(s.name, s.summary));
  const opts = n.options.flatMap((o) => o.spellings.map((s) => described(s, o.help)));
  return [`_kt_cmds=(${cmds.join(' ')})`, `_kt_descs=(${opts.join(' ')})`];
}

/** The completion function itself, shell code kept as such beside this file. */
const main = () =>
  readFileSync(fileURLToPath(new URL('../../../../src/cli/completion/main.zsh', import.meta.url)), 'utf8');

export function zshCompletion(root: Command): string {
  return `#compdef kexec-ts
# zsh completion for kexec-ts(8): options, subcommands, files, kernels under /boot, boot entry ids.
# Generated from kexec-ts' command tables by src/cli/completion/zsh.ts: do not edit.
${sharedFunctions(root, extra)}
${main()}`;
}
