// A system without liblzo2 (Debian's package only recommends liblzo2-2): `vmcore save -l` stops with one
// typed error and its hint before it writes anything (not even DEST.dmesg), as `-z` does without zstd;
// LZO dumps are still read (the decoder is ours), and the other compressions still save. There is no
// second LZO encoder to fall back on: pages are written by liblzo2, as makedumpfile writes them.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { captureIo } from '../../../src/sys/io.js';
import { detectLiblzo2As } from '../../../src/sys/liblzo2.js';
import { userVmcore } from '../../helpers/build-vmcore.js';

const PANIC = 'Kernel panic - not syncing: no lzo test';
const NO_LZO = /^kexec-ts: LZO page compression needs liblzo2: dlopen\("liblzo2-absent\.so\.2"\) failed/m;

describe('a system without liblzo2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-no-lzo-'));
  const src = join(dir, 'vmcore');
  const lzoDump = join(dir, 'made-with-lzo.kdump');
  const run = async (...argv: string[]) => {
    const io = captureIo();
    const code = await main(argv, { io });
    assert.doesNotMatch(io.err, /internal error/);
    return { code, ...io };
  };
  before(async () => {
    writeFileSync(src, userVmcore(['Linux version 6.1.0-test', PANIC]));
    const r = await run('vmcore', 'save', '-l', '--no-dmesg', src, lzoDump); // while liblzo2 is there
    assert.equal(r.code, 0, r.err);
    detectLiblzo2As('liblzo2-absent.so.2');
  });
  after(() => {
    detectLiblzo2As();
    rmSync(dir, { recursive: true, force: true });
  });

  it('vmcore save -l: exit 1, E_STATE with the install hint, and no file at all', async () => {
    const r = await run('vmcore', 'save', '-l', src, join(dir, 'save-l'));
    assert.equal(r.code, 1);
    assert.match(r.err, NO_LZO);
    assert.match(
      r.err,
      /hint: install the LZO library \(apt-get install liblzo2-2\), or compress with -c, -p or -z/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('save-l')),
      [],
    );
    const json = await run('vmcore', 'save', '-l', '--json', src, join(dir, 'save-l-json'));
    assert.equal(json.code, 1);
    const error = JSON.parse(json.err.trim().split('\n').at(-1)!).error;
    assert.deepEqual([error.code, error.name], ['E_STATE', 'StateError']);
  });

  it('an LZO dump is still read: dmesg and info through our decoder', async () => {
    const dmesg = await run('vmcore', 'dmesg', lzoDump);
    assert.equal(dmesg.code, 0, dmesg.err);
    assert.ok(dmesg.out.includes(PANIC));
    const info = await run('vmcore', 'info', lzoDump);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, /^kdump: +lzo pages/m);
  });

  it('the other formats still save', async () => {
    for (const flag of ['-c', '-p', '-E']) {
      const dest = join(dir, `other${flag}`);
      const r = await run('vmcore', 'save', flag, '--no-dmesg', src, dest);
      assert.equal(r.code, 0, `${flag}: ${r.err}`);
      const back = await run('vmcore', 'dmesg', dest);
      assert.ok(back.out.includes(PANIC), flag);
    }
  });
});
