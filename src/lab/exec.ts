// The lab's host tools (apt-get, dpkg-deb, npm, cpio, mke2fs, crash) run through Sys like every other
// program kexec-ts starts (src/sys/process.ts); here a failure becomes a LabError carrying the tool's
// stderr and a hint.
import { LabError } from '../errors.js';
import { realSys } from '../sys/index.js';
import type { ExecOptions, ExecResult, Sys } from '../sys/types.js';

export interface RunOptions extends ExecOptions {
  /** Do not throw on a non-zero exit. */
  allowFail?: boolean;
  hint?: string;
  /** Default the real one. */
  sys?: Sys;
}

export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const { allowFail, hint, sys = realSys(), ...exec } = opts;
  const cmd = argv[0];
  if (!cmd) throw new LabError('run: empty argv');
  const r = await sys.exec(argv, exec);
  if (r.error)
    throw new LabError(`spawn(${cmd}) = ${r.error}`, {
      hint: hint ?? `install ${cmd} or run "kexec-ts lab setup"`,
    });
  if (r.status !== 0 && !allowFail) {
    const tail = r.stderr.trim().split('\n').slice(-15).join('\n');
    throw new LabError(
      `${argv.join(' ')} exited ${r.signal ?? r.status}${tail ? `:\n${tail}` : ''}`,
      hint === undefined ? {} : { hint },
    );
  }
  return r;
}
