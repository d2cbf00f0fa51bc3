import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatDuration,
  formatProgressJson,
  formatProgressLine,
  progressFields,
  progressReporter,
} from '../../../src/kdump/save/progress.js';

describe('vmcore save progress', () => {
  // 65536 pages of 4 KiB = 256 MiB read in 2 s: 128 MiB/s; 196608 pages left at 32768 pages/s = 6 s.
  const s = { donePages: 65_536, totalPages: 262_144, pageSize: 4096, elapsedMs: 2000 };

  it('computes percent, source MiB/s and ETA from the average rate', () => {
    assert.deepEqual(progressFields(s), { percent: 25, mibPerSec: 128, etaSec: 6 });
    assert.deepEqual(progressFields({ ...s, donePages: 0, elapsedMs: 0 }), {
      percent: 0,
      mibPerSec: 0,
      etaSec: null,
    });
  });

  it('formats durations as m:ss and h:mm:ss', () => {
    assert.equal(formatDuration(6), '0:06');
    assert.equal(formatDuration(125.4), '2:05');
    assert.equal(formatDuration(3 * 3600 + 7 * 60 + 9), '3:07:09');
  });

  it('terminal line and JSON line', () => {
    assert.equal(formatProgressLine(s), ' 25.0%  65536/262144 pages  128.0 MiB/s  ETA 0:06');
    assert.equal(
      formatProgressLine({ ...s, donePages: 262_144, elapsedMs: 8000 }),
      '100.0%  262144/262144 pages  128.0 MiB/s  done in 0:08',
    );
    assert.equal(
      formatProgressJson({ ...s, donePages: 0, elapsedMs: 0 }),
      '{"event":"progress","pages":0,"total":262144,"percent":0,"mibPerSec":0,"etaSec":null}',
    );
    assert.deepEqual(JSON.parse(formatProgressJson(s)), {
      event: 'progress',
      pages: 65_536,
      total: 262_144,
      percent: 25,
      mibPerSec: 128,
      etaSec: 6,
    });
  });

  it('reporter: throttled, the last call always written; tty rewrites one line, json writes lines', () => {
    for (const mode of ['tty', 'json'] as const) {
      let t = 0;
      const out: string[] = [];
      const report = progressReporter({ mode, pageSize: 4096, write: (x) => out.push(x), now: () => t });
      t = 100;
      report(10, 100); // first call: written
      t = 500;
      report(20, 100); // inside the interval for json (1000 ms), outside for tty (250 ms)
      t = 600;
      report(100, 100); // final: always written
      if (mode === 'tty') {
        assert.equal(out.length, 3);
        assert.ok(out.every((l) => l.startsWith('\r') && l.includes('\x1b[K')));
        assert.ok(out[2]!.endsWith('done in 0:01\x1b[K\n'));
      } else {
        assert.equal(out.length, 2);
        assert.deepEqual(
          out.map((l) => JSON.parse(l).pages),
          [10, 100],
        );
        assert.ok(out.every((l) => l.endsWith('}\n')));
      }
    }
    const out: string[] = [];
    progressReporter({ mode: 'off', pageSize: 4096, write: (x) => out.push(x) })(1, 1);
    assert.deepEqual(out, []);
  });
});
