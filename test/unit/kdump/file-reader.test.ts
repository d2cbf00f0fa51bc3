// The file reader's two methods on a real file: read() and mmap windows (real mmap through koffi, a
// read-only private mapping of a temporary file) give the same bytes for every range, including ranges
// across window boundaries and the unaligned tail; mmap that fails falls back to read(). borrow() lends
// a view of one window (zero-copy) and refuses ranges across windows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SyscallError, TruncatedError } from '../../../src/errors.js';
import { FILE_WINDOW, MMAP_WINDOW, openFileReader } from '../../../src/kdump/file-reader.js';
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
      const r = openFileReader(file, { mmap, window: MMAP_WINDOW });
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

  it('borrow: a view of one window (1 MiB for a regular file), refused across windows or under read()', () => {
    const r = openFileReader(file, { mmap: true });
    const plain = openFileReader(file);
    try {
      assert.equal(r.window, FILE_WINDOW);
      assert.equal(plain.window, undefined);
      const lent = (off: number, len: number) => {
        let got: Buffer | undefined;
        const ok = r.borrow(off, len, (b) => {
          got = Buffer.from(b); // a copy: the view is valid only inside the callback
        });
        return ok ? got : undefined;
      };
      for (const [off, len] of [
        [0, 4096],
        [FILE_WINDOW - 4096, 4096], // the end of a window
        [3 * FILE_WINDOW + 100, FILE_WINDOW - 100],
        [FILE_WINDOW, 10], // back to an earlier window (remapped in place)
        [SIZE - 12_345, 12_345], // the short last window
        [SIZE - 1, 1],
      ] as const) {
        assert.ok(lent(off, len)?.equals(data.subarray(off, off + len)), `borrow(${off}, ${len})`);
      }
      assert.equal(lent(FILE_WINDOW - 1, 2), undefined, 'across a window boundary');
      assert.equal(lent(0, 0), undefined, 'nothing to lend');
      assert.equal(
        plain.borrow(0, 10, () => assert.fail('read() has nothing to lend')),
        false,
      );
      assert.throws(() => r.borrow(SIZE - 1, 2, () => {}), TruncatedError);
      assert.equal(r.method, 'mmap');
    } finally {
      r.close();
      plain.close();
    }
  });

  it('the first window mapped may be the short tail; a full window after it is mapped anew', () => {
    const r = openFileReader(file, { mmap: true, window: MMAP_WINDOW });
    try {
      const tail = Buffer.alloc(100);
      r.readInto(tail, SIZE - 100);
      assert.ok(tail.equals(data.subarray(SIZE - 100)));
      const full = Buffer.alloc(MMAP_WINDOW);
      r.readInto(full, 0);
      assert.ok(full.equals(data.subarray(0, MMAP_WINDOW)));
      assert.equal(r.fallback, undefined);
    } finally {
      r.close();
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
  it('remaps other file bytes over the same addresses (MAP_FIXED), up to the first length', () => {
    const fd = openSync(file, 'r');
    try {
      const w = mapFileWindow(fd, 0, 8192);
      assert.equal(w.capacity, 8192);
      const seen = (off: number, n: number) => w.lend(off, n, (b) => Buffer.from(b));
      assert.ok(seen(100, 50).equals(data.subarray(100, 150)));
      w.remap(3 * 4096, 8192);
      assert.deepEqual([w.offset, w.length], [3 * 4096, 8192]);
      assert.ok(seen(3 * 4096 + 8000, 192).equals(data.subarray(3 * 4096 + 8000, 3 * 4096 + 8192)));
      assert.throws(() => seen(100, 50), RangeError, 'the old range is gone');
      w.remap(MMAP_WINDOW, 4096); // shorter: only its own bytes are reachable
      assert.ok(seen(MMAP_WINDOW, 4096).equals(data.subarray(MMAP_WINDOW, MMAP_WINDOW + 4096)));
      assert.throws(() => seen(MMAP_WINDOW + 4096, 1), RangeError);
      assert.throws(
        () => w.remap(0, 3 * 4096),
        (e: unknown) => e instanceof SyscallError && e.errno === 'EINVAL',
        'more than the first mapping',
      );
      w.unmap();
      assert.throws(() => w.remap(0, 4096), /after unmap/);
    } finally {
      closeSync(fd);
    }
  });

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
      assert.throws(() => w.lend(4096, 1, () => {}), /after unmap/);
      assert.throws(
        () => mapFileWindow(fd, 100, 4096),
        (e: unknown) => e instanceof SyscallError && e.errno === 'EINVAL' && e.syscall === 'mmap',
      );
    } finally {
      closeSync(fd);
    }
  });
});
