import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { DUMP_DH_COMPRESSED_LZO, DUMP_DH_COMPRESSED_ZSTD } from '../../../src/kdump/compressed/layout.js';
import { KdumpVmcore } from '../../../src/kdump/compressed/vmcore.js';
import { formatKernelLog, readKernelLog } from '../../../src/kdump/dmesg/index.js';
import { logSource } from '../../../src/kdump/dmesg/source.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { defaultConfig, parseKdumpConfig } from '../../../src/kdump/service/config.js';
import { dumpDirName, kdumpAction, kdumpSave } from '../../../src/kdump/service/save.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { LINUX_REBOOT_CMD_POWER_OFF, LINUX_REBOOT_CMD_RESTART } from '../../../src/sys/types.js';
import { buildVmcore, PAGE_OFFSET, SynthMemory, writeLocklessLog } from '../../helpers/build-vmcore.js';

const CRASHTIME = 1_767_225_600; // 2026-01-01T00:00:00Z

function vmcore(withInfo = true): Uint8Array {
  const mem = new SynthMemory();
  const enc = new TextEncoder();
  const { keys } = writeLocklessLog(
    mem,
    [
      { tsNsec: 1_500_000n, text: enc.encode('booting') },
      { tsNsec: 2_000_000_000n, text: enc.encode('kdump-service-marker caf\xe9') },
    ],
    4,
    10,
  );
  return buildVmcore({
    // NUMBER(PAGE_OFFSET) (signed, as %ld prints it) lets a kdump-compressed copy map the direct map
    vmcoreinfo: withInfo
      ? `OSRELEASE=6.1.0-test\nCRASHTIME=${CRASHTIME}\nNUMBER(PAGE_OFFSET)=${BigInt.asIntN(64, PAGE_OFFSET)}\n${keys}`
      : 'X=1\n',
    mem,
  });
}

describe('kdump save (capture side)', () => {
  const base = mkdtempSync(join(tmpdir(), 'kexec-ts-kdump-save-'));
  after(() => rmSync(base, { recursive: true, force: true }));

  it('names the directory after CRASHTIME (UTC), else now', () => {
    assert.equal(dumpDirName(CRASHTIME), '20260101-000000');
    assert.equal(dumpDirName(undefined, new Date(Date.UTC(2025, 1, 3, 4, 5, 6))), '20250203-040506');
  });

  it('writes dmesg.txt first, then vmcore, into TARGET/<time>/; a second crash gets <time>.1', () => {
    const elf = vmcore();
    const log: string[] = [];
    const r = kdumpSave(bytesReader(elf), defaultConfig(), join(base, 'crash'), { log: (l) => log.push(l) });
    assert.equal(r.dir, join(base, 'crash', '20260101-000000'));
    assert.deepEqual(
      r.files.map((f) => f.name),
      ['dmesg.txt', 'vmcore'],
    );
    assert.ok(
      log.findIndex((l) => l.includes('dmesg.txt')) < log.findIndex((l) => /vmcore \d+ bytes/.test(l)),
    );
    assert.equal(
      readFileSync(join(r.dir, 'dmesg.txt'), 'latin1'),
      '[    0.001500] booting\n[    2.000000] kdump-service-marker caf\\xc3\\xa9\n',
    );
    assert.deepEqual(new Uint8Array(readFileSync(join(r.dir, 'vmcore'))), elf);
    assert.equal(statSync(join(r.dir, 'vmcore')).mode & 0o777, 0o600);
    assert.equal(statSync(join(r.dir, 'dmesg.txt')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(r.dir).sort(), ['dmesg.txt', 'vmcore']);
    assert.deepEqual(r.warnings, []);
    const again = kdumpSave(bytesReader(elf), defaultConfig(), join(base, 'crash'));
    assert.equal(again.dir, join(base, 'crash', '20260101-000000.1'));
  });

  it('an unreadable log still leaves a dmesg.txt saying why, and the dump', () => {
    const cfg = { ...defaultConfig(), format: 'kdump' as const, compression: 'zstd' as const, dumpLevel: 1 };
    const r = kdumpSave(bytesReader(vmcore(false)), cfg, join(base, 'noinfo'), { now: new Date(0) });
    assert.equal(r.dir, join(base, 'noinfo', '19700101-000000'));
    assert.match(
      readFileSync(join(r.dir, 'dmesg.txt'), 'utf8'),
      /^kexec-ts: the kernel log could not be read: VMCOREINFO has no SYMBOL\(log_buf\)\n$/,
    );
    assert.equal(r.files[1]!.name, 'vmcore');
    assert.equal(r.warnings.length, 1);
    const k = new KdumpVmcore(bytesReader(new Uint8Array(readFileSync(join(r.dir, 'vmcore')))));
    assert.equal(k.header.status, DUMP_DH_COMPRESSED_ZSTD);
  });

  it('FORMAT=kdump (lzo, level 31 by default): the file reads back with the same log; the lowered level is a warning', () => {
    const cfg = parseKdumpConfig('FORMAT=kdump\n', '/etc/kexec-ts/kdump.conf');
    const lines: string[] = [];
    const r = kdumpSave(bytesReader(vmcore()), cfg, join(base, 'kdump'), { log: (l) => lines.push(l) });
    assert.deepEqual(readdirSync(r.dir).sort(), ['dmesg.txt', 'vmcore']);
    const file = new Uint8Array(readFileSync(join(r.dir, 'vmcore')));
    const k = new KdumpVmcore(bytesReader(file));
    assert.equal(k.header.status, DUMP_DH_COMPRESSED_LZO);
    assert.equal(r.files[1]!.bytes, file.byteLength);
    // The synthetic kernel exports no struct page keys: the filter applies level 1 and says so.
    assert.equal(k.sub.dump_level, 1);
    assert.ok(
      r.warnings.some((w) => /applying level 1 instead of 31/.test(w)),
      r.warnings.join('; '),
    );
    assert.equal(
      formatKernelLog(readKernelLog(logSource(k)!)),
      readFileSync(join(r.dir, 'dmesg.txt'), 'latin1'),
    );
    assert.match(lines.at(-1)!, /vmcore kdump-compressed \(lzo by liblzo2 2\.\d+, level 1\) \d+ bytes/);
  });

  it('ACTION: reboot and poweroff sync then reboot(2) through Sys; shell does nothing', () => {
    const sys = new FakeSys();
    kdumpAction(sys, 'reboot');
    kdumpAction(sys, 'poweroff');
    kdumpAction(sys, 'shell');
    assert.deepEqual(
      sys.calls.map((c) => [c.name, ...c.args]),
      [['sync'], ['reboot', LINUX_REBOOT_CMD_RESTART], ['sync'], ['reboot', LINUX_REBOOT_CMD_POWER_OFF]],
    );
  });

  it('kexec-ts kdump save --vmcore FILE --dir DIR: saves, then reboots (FakeSys); a failed save still reboots', async () => {
    const src = join(base, 'src.elf');
    writeFileSync(src, vmcore());
    const conf = join(base, 'kdump.conf');
    const sys = new FakeSys({ files: { [conf]: 'ACTION=reboot\n' } });
    const io = captureIo();
    const code = await main(
      ['kdump', 'save', '--config', conf, '--vmcore', src, '--dir', join(base, 'cli')],
      { sys, io },
    );
    assert.equal(code, 0, io.err);
    assert.match(io.out, /^saved dmesg\.txt, vmcore to .*cli\/20260101-000000\n$/);
    assert.deepEqual(sys.callsOf('reboot')[0]!.args, [LINUX_REBOOT_CMD_RESTART]);
    const broken = join(base, 'broken.elf');
    writeFileSync(broken, vmcore().subarray(0, 300));
    const sys2 = new FakeSys({ files: { [conf]: 'ACTION=reboot\n' } });
    const io2 = captureIo();
    const code2 = await main(
      ['kdump', 'save', '--config', conf, '--vmcore', broken, '--dir', join(base, 'cli')],
      {
        sys: sys2,
        io: io2,
      },
    );
    assert.equal(code2, 1);
    assert.match(io2.err, /kdump save failed/);
    assert.equal(sys2.callsOf('reboot').length, 1);
    const io3 = captureIo();
    const code3 = await main(
      ['kdump', 'save', '--no-action', '--config', conf, '--vmcore', src, '--dir', join(base, 'cli')],
      {
        sys: sys2,
        io: io3,
      },
    );
    assert.equal(code3, 0, io3.err);
    assert.equal(sys2.callsOf('reboot').length, 1);
  });
});
