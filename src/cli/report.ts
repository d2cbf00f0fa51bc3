// Errors to text and exit codes. Exit codes follow kexec-tools: 1 for die() (bad usage, unmet
// precondition, unreadable file), 255 for a failed load (EFAILED), 253 when -s failed with an errno on
// which the default mode would have fallen back to kexec_load (EFALLBACK).
import { FileError, KexecError, StateError, UsageError } from '../errors.js';
import type { Io } from '../sys/io.js';

export function exitCodeFor(err: unknown): number {
  // FallbackNeededError (kexec/load.ts) by its stable code: importing the class would load the whole
  // kexec stack for every subcommand's error path.
  if (err instanceof KexecError && err.code === 'E_FALLBACK') return 253;
  if (err instanceof UsageError || err instanceof StateError || err instanceof FileError) return 1;
  if (err instanceof KexecError) return 255;
  return 70; // EX_SOFTWARE: a bug in kexec-ts
}

export function reportError(err: unknown, io: Io, json: boolean): void {
  if (err instanceof KexecError) {
    if (json) {
      io.stderr(`${JSON.stringify({ error: err.toJSON() })}\n`);
      return;
    }
    io.stderr(`kexec-ts: ${err.message}\n`);
    if (err.hint) io.stderr(`  hint: ${err.hint}\n`);
    return;
  }
  io.stderr(
    `kexec-ts: internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
}
