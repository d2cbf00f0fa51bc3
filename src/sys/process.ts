// Programs kexec-ts runs: the only place that creates processes (RealSys's exec, execSync, spawn and
// start come here). Programs run from argv arrays, never through a shell. A program that fails or cannot
// be started is a result, not an exception: callers decide what a non-zero status means.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { constants as osConstants } from 'node:os';

export interface ExecOptions {
  cwd?: string;
  /** Variables set on top of this process's environment (LD_LIBRARY_PATH, DEBIAN_FRONTEND). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Bytes written to the program's stdin (default: none, stdin at EOF). */
  input?: Uint8Array | string;
}

export interface ExecResult {
  /** Exit status as a shell reports it: 128+N after signal N, 127 not found, 126 not runnable. */
  status: number;
  stdout: string;
  stderr: string;
  /** The signal that ended the program. */
  signal?: string;
  /** The errno name when the program could not be started (ENOENT, EACCES). */
  error?: string;
}

/** Output captured by execSync: ldd of a large binary, busybox --list-full, far below this. */
const SYNC_MAX_BUFFER = 64 << 20;

function envOf(opts: ExecOptions): NodeJS.ProcessEnv {
  return opts.env ? { ...process.env, ...opts.env } : process.env;
}

function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EIO';
}

function notStarted(e: unknown): ExecResult {
  const error = errnoOf(e);
  return { status: error === 'ENOENT' ? 127 : 126, stdout: '', stderr: '', error };
}

function exited(code: number | null, signal: NodeJS.Signals | null): Pick<ExecResult, 'status' | 'signal'> {
  if (code !== null) return { status: code };
  return { status: 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0), ...(signal ? { signal } : {}) };
}

export function execAsync(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (!program) return Promise.resolve(notStarted({ code: 'ENOENT' }));
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: ExecResult) => {
      if (!settled) resolve(r);
      settled = true;
    };
    const child = spawn(program, args, { cwd: opts.cwd, env: envOf(opts), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => settle(notStarted(e)));
    child.on('close', (code, signal) =>
      settle({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...exited(code, signal),
      }),
    );
    child.stdin.on('error', () => {}); // a program that exits without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

export function execSync(argv: readonly string[], opts: ExecOptions = {}): ExecResult {
  const [program, ...args] = argv;
  if (!program) return notStarted({ code: 'ENOENT' });
  const r = spawnSync(program, args, {
    cwd: opts.cwd,
    env: envOf(opts),
    input: opts.input ?? '',
    encoding: 'utf8',
    maxBuffer: SYNC_MAX_BUFFER,
  });
  if (r.error && r.pid === 0) return notStarted(r.error);
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...exited(r.status, r.signal) };
}

/** A program on this process's terminal (stdio inherited); its exit status. */
export function spawnInherit(argv: readonly string[]): number {
  const [program, ...args] = argv;
  if (!program) return 127;
  const r = spawnSync(program, args, { stdio: 'inherit' });
  if (r.error) return notStarted(r.error).status;
  return exited(r.status, r.signal).status;
}

/** A long-running program with piped stdin, stdout and stderr. */
export function startPiped(argv: readonly string[]): ChildProcess {
  const [program, ...args] = argv;
  return spawn(program ?? '', args, { stdio: ['pipe', 'pipe', 'pipe'] });
}
