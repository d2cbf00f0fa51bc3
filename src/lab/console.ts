// Drives the guest's serial console: a timestamped transcript, pattern waits, and shell commands whose
// exit status comes back through marker lines. The console survives kexec and reboots (same QEMU process),
// so READY lines are counted as boots.
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { LabError } from '../errors.js';
import { LINUX_VERSION_RE, READY_RE } from './markers.js';

export interface TranscriptLine {
  /** ms since QEMU was started. */
  t: number;
  text: string;
}

export interface BootEvent {
  /** 1 for the first boot. */
  boot: number;
  /** ms since QEMU start at which `Linux version` was printed (undefined if missed). */
  kernelStart?: number;
  /** ms since QEMU start at which the READY line was printed. */
  ready?: number;
  /** Guest /proc/uptime at READY. */
  uptime?: number;
  role?: string;
}

export interface ExpectMatch {
  match: RegExpExecArray;
  /** ms since QEMU start of the line holding the match. */
  t: number;
}

export interface RunResult {
  output: string;
  status: number;
}

interface Waiter {
  re: RegExp;
  resolve: (m: ExpectMatch) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_READY_TIMEOUT_MS = 120_000;
export const DEFAULT_RUN_TIMEOUT_MS = 60_000;
/** Longest command sent as one console line (the wrapper adds ~100 bytes; ash's editor stops at 1024). */
const MAX_LINE = 800;

export class GuestConsole {
  readonly lines: TranscriptLine[] = [];
  readonly boots: BootEvent[] = [];
  /** Everything received, \r removed; `cursor` is where the next expect() starts searching. */
  private text = '';
  /** Offset into `text` and arrival time of each line's first byte. */
  private readonly starts: { off: number; t: number }[] = [];
  private atLineStart = true;
  private partial = '';
  private cursor = 0;
  private readyCursor = 0;
  private seq = 0;
  private waiters: Waiter[] = [];
  private exitInfo: string | undefined;
  private readonly t0: number;
  readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly onLine?: (line: TranscriptLine) => void,
  ) {
    this.t0 = performance.now();
    child.stdout?.on('data', (b: Buffer) => this.feed(b.toString('latin1')));
    child.stderr?.on('data', (b: Buffer) => this.feed(b.toString('latin1')));
    child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      child.on('error', (e) => {
        this.exitInfo = `spawn failed: ${e.message}`;
        this.failAll();
        resolve();
      });
      child.on('exit', (code, signal) => {
        this.exitInfo = `QEMU exited (${signal ?? code})`;
        this.flushPartial();
        this.failAll();
        resolve();
      });
    });
  }

  /** ms since QEMU start. */
  now(): number {
    return performance.now() - this.t0;
  }

  get bootCount(): number {
    return this.boots.filter((b) => b.ready !== undefined).length;
  }

  private feed(chunk: string): void {
    const now = this.now();
    const clean = chunk.replace(/\r/g, '');
    let i = 0;
    while (i < clean.length) {
      if (this.atLineStart) {
        this.starts.push({ off: this.text.length + i, t: now });
        this.atLineStart = false;
      }
      const nl = clean.indexOf('\n', i);
      if (nl < 0) {
        this.partial += clean.slice(i);
        break;
      }
      this.partial += clean.slice(i, nl);
      this.endLine();
      this.atLineStart = true;
      i = nl + 1;
    }
    this.text += clean;
    this.wake();
  }

  private endLine(): void {
    const line = { t: this.starts.at(-1)?.t ?? 0, text: this.partial };
    this.partial = '';
    this.lines.push(line);
    this.noteBootEvents(line);
    this.onLine?.(line);
  }

  private flushPartial(): void {
    if (this.partial !== '') this.endLine();
  }

  private noteBootEvents(line: TranscriptLine): void {
    if (LINUX_VERSION_RE.test(line.text))
      this.boots.push({ boot: this.boots.length + 1, kernelStart: line.t });
    const m = READY_RE.exec(line.text);
    if (m) {
      let cur = this.boots.at(-1);
      if (!cur || cur.ready !== undefined) {
        cur = { boot: this.boots.length + 1 };
        this.boots.push(cur);
      }
      cur.ready = line.t;
      cur.uptime = Number(m[1]);
      cur.role = m[2]!;
    }
  }

  /** Time of the line containing text offset `off`. */
  private timeAt(off: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.starts[mid]!;
      if (s.off <= off) {
        best = s.t;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  private wake(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const m = this.search(w.re);
      if (m) {
        clearTimeout(w.timer);
        w.resolve(m);
      } else still.push(w);
    }
    this.waiters = still;
  }

  private search(re: RegExp): ExpectMatch | undefined {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    g.lastIndex = this.cursor;
    const m = g.exec(this.text);
    if (!m) return undefined;
    this.cursor = m.index + m[0].length;
    return { match: m, t: this.timeAt(m.index) };
  }

  private failAll(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.error(`${this.exitInfo} while waiting for ${w.re}`));
    }
    this.waiters = [];
  }

  private error(msg: string): LabError {
    return new LabError(`${msg}\n--- last console lines ---\n${this.tail(40)}`, {
      hint: 'the guest did not answer in time; see the transcript above (raise the timeout under slow TCG)',
    });
  }

  /** Waits for `pattern` after the previous match; the consumed position moves past the match. */
  expect(pattern: RegExp | string, timeoutMs: number = DEFAULT_RUN_TIMEOUT_MS): Promise<ExpectMatch> {
    const re = typeof pattern === 'string' ? new RegExp(escapeRe(pattern)) : pattern;
    const now = this.search(re);
    if (now) return Promise.resolve(now);
    if (this.exitInfo) return Promise.reject(this.error(`${this.exitInfo} before ${re}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(this.error(`timed out after ${timeoutMs} ms waiting for ${re}`));
      }, timeoutMs);
      this.waiters.push({ re, resolve, reject, timer });
    });
  }

  /** Waits for the next READY line (next boot) and returns that boot's events. */
  async waitReady(timeoutMs: number = DEFAULT_READY_TIMEOUT_MS): Promise<BootEvent> {
    const saved = this.cursor;
    this.cursor = Math.max(this.readyCursor, saved);
    const m = await this.expect(new RegExp(`${READY_RE.source}\\n`), timeoutMs);
    this.readyCursor = this.cursor;
    const boot =
      this.boots.find((b) => b.ready === m.t && b.uptime === Number(m.match[1])) ?? this.boots.at(-1)!;
    // The shell prints its prompt right after READY; give it the console.
    await this.expect(/lab# /, 10_000).catch(() => undefined);
    return boot;
  }

  /** Raw input to the console. */
  send(text: string): void {
    this.child.stdin?.write(text);
  }

  /**
   * Runs one shell command line and returns its output and exit status. Markers are assembled by printf
   * from split strings, so the echoed command line cannot match them.
   */
  async run(cmd: string, timeoutMs: number = DEFAULT_RUN_TIMEOUT_MS): Promise<RunResult> {
    if (cmd.length > MAX_LINE) cmd = await this.stage(cmd);
    const id = ++this.seq;
    // One input line, so the shell echoes it whole before any output; `cmd` must be a single line.
    this.send(
      `printf '%s%s\\n' KTS-BEG 'IN-${id}'; ${cmd.trim()}; printf '%s%s %s\\n' KTS-EN 'D-${id}' "$?"\n`,
    );
    await this.expect(new RegExp(`KTS-BEGIN-${id}\\n`), timeoutMs);
    const start = this.cursor;
    const end = await this.expect(new RegExp(`KTS-END-${id} (\\d+)\\n`), timeoutMs);
    const output = this.text.slice(start, end.match.index);
    return { output: stripNoise(output), status: Number(end.match[1]) };
  }

  /**
   * busybox ash's line editor cuts input lines at 1024 bytes (FEATURE_EDITING_MAX_LEN), so a long
   * command travels base64-encoded in short chunks to a file, and the returned line sources it.
   */
  private async stage(cmd: string): Promise<string> {
    const file = `/tmp/.kts-cmd-${++this.seq}`;
    const b64 = Buffer.from(cmd.trim(), 'utf8').toString('base64');
    for (let i = 0; i < b64.length; i += 512) {
      const r = await this.run(`printf %s '${b64.slice(i, i + 512)}' >> ${file}.b64`);
      if (r.status !== 0) throw this.error(`staging a long command failed: ${r.output}`);
    }
    return `base64 -d ${file}.b64 > ${file} && . ${file}`;
  }

  /** Like run() but throws LabError unless the status is 0. */
  async check(cmd: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(cmd, timeoutMs);
    if (r.status !== 0) throw this.error(`guest command failed (status ${r.status}): ${cmd}\n${r.output}`);
    return r.output;
  }

  /** Last `n` transcript lines with timestamps. */
  tail(n: number): string {
    const out = this.lines.slice(-n).map(formatLine);
    if (this.partial) out.push(formatLine({ t: this.starts.at(-1)?.t ?? 0, text: this.partial }));
    return out.join('\n');
  }

  transcript(): string {
    return this.lines.map(formatLine).join('\n');
  }

  /** Kills QEMU (the guest has no state worth a clean shutdown). */
  async close(): Promise<void> {
    if (this.exitInfo === undefined) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
  }
}

export function formatLine(l: TranscriptLine): string {
  return `[${(l.t / 1000).toFixed(3).padStart(8)}] ${l.text}`;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Drops terminal queries busybox's line editor emits (ESC [6n) from command output. */
function stripNoise(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\n$/, '');
}
