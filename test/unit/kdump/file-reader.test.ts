// The file reader's two methods on a real file: read() and mmap windows (real mmap through koffi, a
// read-only private mapping of a temporary file) give the same bytes for every range, including ranges
// across window boundaries and the unaligned tail; mmap that fails falls back to read().
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SyscallError, TruncatedError } from '../../../src/errors.js';
import { MMAP_WINDOW, openFileReader } from '../../../src/kdump/file-reader.js';
import { mapFileWindow } from '../../../src/sys/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-reader-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Two whole windows and a tail that is not a multiple of the page size.
const SIZE = 2 * MMAP_WINDOW + 12_345;
const data = randomBytes(SIZE);
const file = join(dir, 'data.bin');
writeFileSync(file, data);

describe('openFileReader: read() and mmap windows', () => {
  it('auto uses read() for a regular file outside /proc; mmap: true maps it', () => {
    const a = openFileReader(file);
    const b = openFileReader(file, { mmap: true });
    try {
      assert.equal(a.method, 'read');
      assert.equal(b.method, 'mmap');
      assert.equal(b.size, SIZE);
    } finally {
      a.close();
      b.close();
    }
  });

  it('both methods return the file bytes for ranges inside, across and at the end of windows', () => {
    const ranges: [number, number][] = [
      [0, 64],
      [MMAP_WINDOW - 100, 200], // across the first window boundary
      [MMAP_WINDOW, MMAP_WINDOW], // exactly the second window
      [123, 2 * MMAP_WINDOW + 1000], // three windows
      [SIZE - 12_345, 12_345], // the unaligned tail
      [SIZE - 1, 1],
      [5 * 4096, 0],
    ];
    for (let i = 0; i < 40; i++) {
      const off = Math.floor(Math.random() * SIZE);
      ranges.push([off, Math.floor(Math.random() * (SIZE - off))]);
    }
    for (const mmap of [false, true]) {
      const r = openFileReader(file, { mmap });
      try {
        for (const [off, len] of ranges) {
          const want = data.subarray(off, off + len);
          assert.ok(Buffer.from(r.read(off, len)).equals(want), `${r.method} read(${off}, ${len})`);
          const into = Buffer.alloc(len);
          r.readInto(into, off);
          assert.ok(into.equals(want), `${r.method} readInto(${off}, ${len})`);
        }
        assert.equal(r.method, mmap ? 'mmap' : 'read');
        assert.equal(r.fallback, undefined);
        assert.throws(() => r.read(SIZE - 10, 11), TruncatedError);
        assert.throws(() => r.readInto(Buffer.alloc(1), SIZE), TruncatedError);
      } finally {
        r.close();
      }
    }
  });

  it('falls back to read() when the file cannot be mapped (procfs: ENODEV), and says why', () => {
    // /proc/self/cmdline is a regular file under /proc without an mmap method.
    const r = openFileReader('/proc/self/cmdline', { size: 4 });
    try {
      assert.equal(r.method, 'mmap');
      const got = r.read(0, 4);
      assert.equal(r.method, 'read');
      assert.match(r.fallback ?? '', /^mmap\(NULL, 4, PROT_READ, MAP_PRIVATE, \d+, 0x0\) = ENODEV/);
      assert.ok(Buffer.from(got).equals(readFileSync('/proc/self/cmdline').subarray(0, 4)));
    } finally {
      r.close();
    }
  });
});

describe('mapFileWindow (mmap/munmap through koffi)', () => {
  it('maps a page-aligned window and copies out of it; unaligned offsets are EINVAL', () => {
    const fd = openSync(file, 'r');
    try {
      const w = mapFileWindow(fd, 4096, 8192);
      const out = Buffer.alloc(100);
      w.copy(4096 + 8000, out, 0, 100);
      assert.ok(out.equals(data.subarray(4096 + 8000, 4096 + 8100)));
      assert.throws(() => w.copy(4096 + 8100, out, 0, 100), RangeError);
      w.unmap();
      assert.throws(() => w.copy(4096, out, 0, 1), /after unmap/);
      assert.throws(
        () => mapFileWindow(fd, 100, 4096),
        (e: unknown) => e instanceof SyscallError && e.errno === 'EINVAL' && e.syscall === 'mmap',
      );
    } finally {
      closeSync(fd);
    }
  });
});
