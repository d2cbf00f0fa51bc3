import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../../src/errors.js';
import { formatKernelLog, logFormat, readKernelLog } from '../../../src/kdump/dmesg/index.js';
import { escapeText, formatRecord, formatTimestamp } from '../../../src/kdump/dmesg/record.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { parseVmcoreinfo } from '../../../src/kdump/vmcoreinfo.js';
import {
  buildVmcore,
  SynthMemory,
  type SynthRecord,
  writeLegacyLog,
  writeLocklessLog,
  writeStructuredLog,
} from '../../helpers/build-vmcore.js';

const enc = (s: string) => new TextEncoder().encode(s);
const rec = (tsNsec: bigint, text: string | Uint8Array): SynthRecord => ({
  tsNsec,
  text: typeof text === 'string' ? enc(text) : text,
});

function logOf(mem: SynthMemory, keys: string) {
  const vm = openElfVmcore(bytesReader(buildVmcore({ vmcoreinfo: `OSRELEASE=6.1.0-test\n${keys}`, mem })));
  return readKernelLog({ mem: vm, le: true, info: vm.vmcoreinfo! });
}

describe('dmesg formatting (vmcore-dmesg style)', () => {
  it('prints [%5llu.%06llu] with microseconds truncated', () => {
    assert.equal(formatTimestamp(0n), '[    0.000000]');
    assert.equal(formatTimestamp(12_345_678_901n), '[   12.345678]');
    assert.equal(formatTimestamp(123_456_000_000_999n), '[123456.000000]');
  });
  it('escapes bytes that are neither printable nor white space as \\xNN, keeps \\t and \\n', () => {
    assert.equal(
      escapeText(Uint8Array.from([0x61, 0x01, 0x09, 0x0a, 0x7f, 0xc3, 0xa9, 0x20])),
      'a\\x01\t\n\\x7f\\xc3\\xa9 ',
    );
    assert.equal(formatRecord(rec(1_000_000n, 'hi')), '[    0.001000] hi\n');
  });
});

describe('lockless printk ringbuffer (5.10+)', () => {
  it('reads a ring that never wrapped, exactly', () => {
    const mem = new SynthMemory();
    const records = [
      rec(0n, 'Linux version 6.1.0-test'),
      rec(1_500_000n, ''),
      rec(2_000_001_000n, 'two\nlines'),
      rec(3_000_000_000n, Uint8Array.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x01])),
      rec(4_250_000_000n, 'sysrq: Trigger a crash'),
    ];
    const { keys } = writeLocklessLog(mem, records, 5, 12);
    const log = logOf(mem, keys);
    assert.equal(log.format, 'lockless');
    assert.deepEqual(
      log.records.map((r) => r.seq),
      [0n, 1n, 2n, 3n, 4n],
    );
    assert.equal(
      formatKernelLog(log),
      '[    0.000000] Linux version 6.1.0-test\n' +
        '[    0.001500] \n' +
        '[    2.000001] two\nlines\n' +
        '[    3.000000] caf\\xc3\\xa9\\x01\n' +
        '[    4.250000] sysrq: Trigger a crash\n',
    );
  });

  it('keeps exactly the surviving records of wrapped descriptor and text rings (ids wrap through 0)', () => {
    const mem = new SynthMemory();
    const records = Array.from({ length: 300 }, (_, i) =>
      rec(BigInt(i) * 1_000_000_007n, i % 17 === 0 ? '' : `record ${i} ${'x'.repeat((i * 7) % 45)}`),
    );
    const { keys, survivors } = writeLocklessLog(mem, records, 4, 9);
    assert.ok(survivors.length > 3 && survivors.length < 16, `${survivors.length} survivors`);
    const log = logOf(mem, keys);
    assert.deepEqual(
      log.records.map((r) => [r.tsNsec, Buffer.from(r.text).toString()]),
      survivors.map((r) => [r.tsNsec, Buffer.from(r.text).toString()]),
    );
    assert.equal(formatKernelLog(log).split('\n').at(-2), `[  299.000002] record 299 ${'x'.repeat(23)}`);
  });

  it('reads every ring shape: sizes from 2^2 to 2^6 descriptors over small text rings', () => {
    for (const countBits of [2, 3, 4, 5, 6]) {
      for (const sizeBits of [7, 8, 10]) {
        const mem = new SynthMemory();
        const records = Array.from({ length: 200 }, (_, i) => rec(BigInt(i), `m${i}${'.'.repeat(i % 29)}`));
        const { keys, survivors } = writeLocklessLog(mem, records, countBits, sizeBits);
        const got = logOf(mem, keys).records.map((r) => Buffer.from(r.text).toString());
        assert.deepEqual(
          got,
          survivors.map((r) => Buffer.from(r.text).toString()),
          `${countBits}/${sizeBits}`,
        );
      }
    }
  });

  it('names a missing VMCOREINFO key, and caps absurd ring sizes', () => {
    const mem = new SynthMemory();
    const { keys } = writeLocklessLog(mem, [rec(0n, 'x')], 4, 9);
    assert.throws(() => logOf(mem, keys.replace(/SIZE\(prb_desc\)=24\n/, '')), /no SIZE\(prb_desc\)/);
    const rb = mem.off(parseVmcoreinfo(keys).symbols['prb']!) + 8; // printk_rb_static follows the pointer
    mem.view.setUint32(rb, 40, true); // count_bits
    assert.throws(() => logOf(mem, keys), LimitError);
  });
});

describe('structured printk log (3.5-5.9)', () => {
  it('walks from log_first_idx to log_next_idx across the len == 0 wrap', () => {
    const mem = new SynthMemory();
    const records = Array.from({ length: 12 }, (_, i) => rec(BigInt(i) * 250_000_000n, `structured ${i}`));
    const { keys } = writeStructuredLog(mem, records, 512, 300);
    const log = logOf(mem, keys);
    assert.equal(log.format, 'structured');
    // 12 records plus the wrap header after record 5, printed empty as vmcore-dmesg does.
    assert.equal(log.records.length, 13);
    assert.deepEqual(
      log.records.map((r) => r.wrap === true),
      Array.from({ length: 13 }, (_, i) => i === 6),
    );
    const lines = formatKernelLog(log).split('\n');
    assert.equal(lines[5], '[    1.250000] structured 5');
    assert.equal(lines[6], '[    0.000000] ');
    assert.equal(lines[12], '[    2.750000] structured 11');
  });

  it('refuses a log that wraps twice', () => {
    const mem = new SynthMemory();
    const { keys } = writeStructuredLog(mem, [rec(0n, 'a')], 256, 0);
    const v = parseVmcoreinfo(keys);
    mem.u32(v.symbols['log_next_idx']!, 8); // never reached: the walk sees len == 0 twice
    const buf = mem.view.getBigUint64(mem.off(v.symbols['log_buf']!), true);
    mem.u16(buf + 8n, 0);
    assert.throws(() => logOf(mem, keys), FormatError);
  });
});

describe('legacy log_buf (before 3.5)', () => {
  it('returns the last logged_chars bytes ending at log_end', () => {
    const mem = new SynthMemory();
    const text = enc(Array.from({ length: 20 }, (_, i) => `<6>line ${i}\n`).join(''));
    const { keys } = writeLegacyLog(mem, text, 64);
    assert.equal(logFormat(parseVmcoreinfo(keys)), 'legacy');
    const log = logOf(mem, keys);
    assert.equal(formatKernelLog(log), Buffer.from(text.subarray(text.byteLength - 64)).toString());
  });
});
