// Progress of `vmcore save`: on a terminal one line rewritten in place (percent, pages, throughput of
// the source read, ETA), with --json one JSON object per line on stderr, about once a second. Throughput
// and ETA use the average since the start: the rate of a dump is steady enough, and it does not jump.

export interface ProgressSample {
  donePages: number;
  totalPages: number;
  pageSize: number;
  elapsedMs: number;
}

export interface ProgressFields {
  percent: number;
  /** Source bytes per second, in MiB (pages × page size). */
  mibPerSec: number;
  /** Seconds left at the average rate so far; null until there is a rate. */
  etaSec: number | null;
}

export function progressFields(s: ProgressSample): ProgressFields {
  const percent = s.totalPages > 0 ? (100 * s.donePages) / s.totalPages : 100;
  const sec = s.elapsedMs / 1000;
  const mibPerSec = sec > 0 ? (s.donePages * s.pageSize) / 2 ** 20 / sec : 0;
  const pagesPerSec = sec > 0 ? s.donePages / sec : 0;
  const etaSec = pagesPerSec > 0 ? Math.max(0, s.totalPages - s.donePages) / pagesPerSec : null;
  return { percent, mibPerSec, etaSec };
}

/** `h:mm:ss` or `m:ss`. */
export function formatDuration(sec: number): string {
  const t = Math.round(sec);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The terminal line, e.g. ` 45.0%  147000/327389 pages  512.3 MiB/s  ETA 0:12`. */
export function formatProgressLine(s: ProgressSample): string {
  const f = progressFields(s);
  const eta = f.etaSec === null ? '--:--' : formatDuration(f.etaSec);
  return (
    `${f.percent.toFixed(1).padStart(5)}%  ${s.donePages}/${s.totalPages} pages  ` +
    `${f.mibPerSec.toFixed(1)} MiB/s  ${s.donePages >= s.totalPages ? `done in ${formatDuration(s.elapsedMs / 1000)}` : `ETA ${eta}`}`
  );
}

/** The --json line: {"event":"progress","pages":N,"total":N,"percent":..,"mibPerSec":..,"etaSec":..}. */
export function formatProgressJson(s: ProgressSample): string {
  const f = progressFields(s);
  return JSON.stringify({
    event: 'progress',
    pages: s.donePages,
    total: s.totalPages,
    percent: Math.round(f.percent * 10) / 10,
    mibPerSec: Math.round(f.mibPerSec * 10) / 10,
    etaSec: f.etaSec === null ? null : Math.round(f.etaSec),
  });
}

export interface ProgressOptions {
  mode: 'tty' | 'json' | 'off';
  pageSize: number;
  write: (text: string) => void;
  now?: () => number;
  /** Minimum interval between two lines (the last one is always written). */
  intervalMs?: number;
}

/** An onProgress(done, total) callback that writes lines as `mode` says. */
export function progressReporter(o: ProgressOptions): (done: number, total: number) => void {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const interval = o.intervalMs ?? (o.mode === 'tty' ? 250 : 1000);
  let last = -Infinity;
  return (done, total) => {
    if (o.mode === 'off') return;
    const t = now();
    const final = done >= total;
    if (!final && t - last < interval) return;
    last = t;
    const s = { donePages: done, totalPages: total, pageSize: o.pageSize, elapsedMs: t - t0 };
    // \r and erase-to-end-of-line (ECMA-48 EL, CSI K) rewrite the line in place.
    if (o.mode === 'tty') o.write(`\r${formatProgressLine(s)}\x1b[K${final ? '\n' : ''}`);
    else o.write(`${formatProgressJson(s)}\n`);
  };
}
