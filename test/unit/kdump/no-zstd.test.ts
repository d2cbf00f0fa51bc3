// A runtime with no zstd at all (Node.js < 22.15 on a system without libzstd.so.1): every command that
// needs zstd stops with one typed error and its hint, `vmcore save` writes nothing (not even DEST.dmesg),
// and everything else works. Issue 13: on Node 20.20.2 `vmcore save` stopped with "internal error" and
// left only its .dmesg file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { detectZstdAs } from '../../../src/formats/compress/zstd.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { userVmcore } from '../../helpers/build-vmcore.js';
import { zstdCompressSync } from '../../helpers/zstd.js';

const PANIC = 'Kernel panic - not syncing: no zstd test';
const NO_ZSTD =
  /^kexec-ts: zstd is not available: Node\.js \S+ has no zstd in node:zlib .*dlopen\("libzstd-absent\.so\.1"\)/m;

describe('a runtime without zstd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-no-zstd-'));
  const src = join(dir, 'vmcore');
  const zstdDump = join(dir, 'made-with-zstd.kdump');
  const zstdKernel = join(dir, 'vmlinuz.zst');
  before(async () => {
    writeFileSync(src, userVmcore(['Linux version 6.1.0-test', PANIC]));
    // Files written while zstd is there, read back once it is gone.
    const io = captureIo();
    assert.equal(await main(['vmcore', 'save', '-z', '--no-dmesg', src, zstdDump], { io }), 0, io.err);
    writeFileSync(zstdKernel, zstdCompressSync(buildBzImage()));
    detectZstdAs({ node: false, library: 'libzstd-absent.so.1' });
  });
  after(() => {
    detectZstdAs();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...argv: string[]) => {
    const io = captureIo();
    const code = await main(argv, { io });
    assert.doesNotMatch(io.err, /internal error/);
    return { code, ...io };
  };

  it('vmcore save -z: E_STATE with the install hint, and no file at all', async () => {
    const dest = join(dir, 'save-z');
    const r = await run('vmcore', 'save', '-z', src, dest);
    assert.notEqual(r.code, 0);
    assert.match(r.err, NO_ZSTD);
    assert.match(r.err, /hint: install the zstd library \(apt-get install libzstd1\)/);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('save-z')),
      [],
    );
  });

  it('vmcore save -z --json: the error as JSON with code E_STATE', async () => {
    const r = await run('vmcore', 'save', '-z', '--json', src, join(dir, 'save-json'));
    assert.notEqual(r.code, 0);
    assert.match(r.err + r.out, /"code":\s*"E_STATE"/);
    assert.equal(existsSync(join(dir, 'save-json.dmesg')), false);
  });

  it('vmcore dmesg of a zstd dump: the same typed error; info shows the headers and says why no log', async () => {
    const dmesg = await run('vmcore', 'dmesg', zstdDump);
    assert.notEqual(dmesg.code, 0);
    assert.match(dmesg.err, NO_ZSTD);
    const info = await run('vmcore', 'info', zstdDump);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, /^kdump: +zstd pages/m);
    assert.match(info.out, /^log: +unreadable: zstd is not available: /m);
  });

  it('inspect of a zstd-compressed file: what it can read, and a warning saying why not the rest', async () => {
    const r = await run('inspect', zstdKernel);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^compression: +zstd$/m);
    assert.match(r.out, /^warning: +zstd is not available: /m);
  });

  it('the other formats still save, with the log first', async () => {
    for (const flag of ['-c', '-l', '-p', '-E']) {
      const dest = join(dir, `other${flag}`);
      const r = await run('vmcore', 'save', flag, src, dest);
      assert.equal(r.code, 0, `${flag}: ${r.err}`);
      const back = await run('vmcore', 'dmesg', dest);
      assert.equal(back.code, 0, back.err);
      assert.ok(back.out.includes(PANIC), flag);
    }
  });
});
