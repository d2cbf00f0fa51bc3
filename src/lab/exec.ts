// Child-process helpers for the lab: host tools (apt-get, dpkg-deb, cpio, ldd) run with argv arrays,
// never through a shell, and a failure becomes a LabError carrying the tool's stderr.
import { spawn } from 'node:child_process';
import { LabError } from '../errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the child's stdin. */
  input?: Uint8Array | string;
  /** Do not throw on a non-zero exit. */
  allowFail?: boolean;
  hint?: string;
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new LabError('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new LabError(`spawn(${cmd}) = ${e.code ?? e.message}`, {
          cause: e,
          hint: opts.hint ?? `install ${cmd} or run "kexec-ts lab setup"`,
        }),
      ),
    );
    child.on('close', (code, signal) => {
      const r = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? 128,
      };
      if (r.code !== 0 && !opts.allowFail) {
        const tail = r.stderr.trim().split('\n').slice(-15).join('\n');
        reject(
          new LabError(
            `${argv.join(' ')} exited ${signal ?? r.code}${tail ? `:\n${tail}` : ''}`,
            opts.hint === undefined ? {} : { hint: opts.hint },
          ),
        );
      } else resolve(r);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
