// The bash completion of kexec-ts, generated from the command tables (model.ts). Installed as
// /usr/share/bash-completion/completions/kexec-ts; needs bash 4 (mapfile), not the bash-completion package.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { sharedFunctions } from './model.js';

/** The completion function itself, shell code kept as such beside this file. */
const main = () =>
  readFileSync(fileURLToPath(new URL('../../../../src/cli/completion/main.bash', import.meta.url)), 'utf8');

export function bashCompletion(root: Command): string {
  return `# bash completion for kexec-ts(8): options, subcommands, files, kernels under /boot, boot entry ids.
# Generated from kexec-ts' command tables by src/cli/completion/bash.ts: do not edit.
${sharedFunctions(root)}
${main()}`;
}
