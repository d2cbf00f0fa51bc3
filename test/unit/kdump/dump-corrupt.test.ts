// Bad input read from a dump is a typed KexecError with its data, never a RangeError (exit 70,
// "internal error"): truncated and corrupted ELF vmcores, kdump-compressed files, flattened streams,
// VMCOREINFO and printk rings, read through the CLI (exit code, --json error) and swept field by field.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { exitCodeFor } from '../../../src/cli/report.js';
import { KexecError } from '../../../src/errors.js';
import {
  DiskDumpHeader,
  DUMP_DH_COMPRESSED_LZO,
  PAGE_DESC_SIZE,
} from '../../../src/kdump/compressed/layout.js';
import { readKernelLog } from '../../../src/kdump/dmesg/index.js';
import { logSource } from '../../../src/kdump/dmesg/source.js';
import { openDump } from '../../../src/kdump/dump.js';
import { summarizeVmcore } from '../../../src/kdump/info.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { writeKdumpCompressed } from '../../../src/kdump/save/kdump-writer.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { captureIo } from '../../../src/sys/io.js';
import {
  buildVmcore,
  MEM_SIZE,
  PHYS_START,
  SynthMemory,
  writeLocklessLog,
} from '../../helpers/build-vmcore.js';
import { memorySink } from '../../helpers/memory-sink.js';

const PS = 4096;
/** Elf64_Ehdr is 64 bytes, Elf64_Phdr 56 (gABI); buildVmcore writes PT_NOTE, text and RAM PT_LOADs. */
const PHDR = (i: number, field: number) => 64 + i * 56 + field;
const P_OFFSET = 8;
const P_FILESZ = 32;

function vmcore(): { bytes: Uint8Array } {
  const mem = new SynthMemory();
  const text = (s: string) => new TextEncoder().encode(s);
  const { keys } = writeLocklessLog(
    mem,
    [{ tsNsec: 1_000n, text: text('Linux version 6.1.0-corrupt') }],
    4,
    10,
  );
  for (let i = 64 * PS; i < 66 * PS; i++) mem.bytes[i] = (i * 7) & 0xff;
  const info = `OSRELEASE=6.1.0-corrupt\nPAGESIZE=4096\nNUMBER(phys_base)=0\n${keys}`;
  return { bytes: buildVmcore({ vmcoreinfo: info, mem }) };
}

function kdump(elf: Uint8Array, compression: 'zlib' | 'lzo'): Uint8Array {
  const sink = memorySink();
  writeKdumpCompressed(openElfVmcore(bytesReader(elf)), sink, { level: 1, compression, chunk: 32 * PS });
  return sink.bytes();
}

const u64At = (b: Uint8Array, at: number, v: bigint) => {
  const out = b.slice();
  new DataView(out.buffer).setBigUint64(at, v, true);
  return out;
};

/** Everything `vmcore info` and `vmcore dmesg` read, and every page of RAM. */
function readAll(bytes: Uint8Array, log = true): void {
  const d = openDump(bytesReader(bytes));
  summarizeVmcore(d);
  const src = logSource(d);
  if (src && log) readKernelLog(src);
  for (let pa = PHYS_START; pa < PHYS_START + BigInt(MEM_SIZE); pa += BigInt(PS)) d.readPhys(pa, PS);
}

/** Runs readAll; returns the typed error, fails the test on any other exception. */
function typedFailure(bytes: Uint8Array, what: string, log = true): KexecError | undefined {
  try {
    readAll(bytes, log);
    return undefined;
  } catch (e) {
    if (e instanceof KexecError) return e;
    assert.fail(`${what}: ${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-corrupt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ rc: number; error: Record<string, unknown> }> {
  const io = captureIo();
  const rc = await main([...args, '--json'], { io });
  const lines = io.err.trim().split('\n');
  return { rc, error: JSON.parse(lines.at(-1)!).error };
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('a bad dump through the CLI: exit 255 and the error data under --json', () => {
  const { bytes: elf } = vmcore();

  it('an ELF vmcore cut inside its program headers: E_TRUNCATED with offset, need and have', async () => {
    const path = file('cut-phdrs', elf.subarray(0, 100));
    const { rc, error } = await cli(['vmcore', 'info', path]);
    assert.equal(rc, 255);
    assert.equal(error['code'], 'E_TRUNCATED');
    // e_phoff 64, three Elf64_Phdr of 56 bytes, a 100-byte file
    assert.deepEqual([error['offset'], error['need'], error['have']], [64, 3 * 56, 100]);
    assert.equal(error['struct'], path);
  });

  it('a PT_NOTE p_filesz of 2^32: E_LIMIT, before any allocation', async () => {
    const path = file('huge-note', u64At(elf, PHDR(0, P_FILESZ), 1n << 32n));
    const { rc, error } = await cli(['vmcore', 'info', path]);
    assert.equal(rc, 255);
    assert.equal(error['code'], 'E_LIMIT');
    assert.match(String(error['message']), /^PT_NOTE p_filesz is 4294967296, outside 0\.\.16777216$/);
    assert.equal(error['format'], 'vmcore');
  });

  it('a PT_LOAD p_offset past the end of the file: dmesg fails with E_TRUNCATED at that offset', async () => {
    const path = file('far-load', u64At(elf, PHDR(2, P_OFFSET), 1n << 40n));
    const { rc, error } = await cli(['vmcore', 'dmesg', path]);
    assert.equal(rc, 255);
    assert.equal(error['code'], 'E_TRUNCATED');
    assert.ok((error['offset'] as number) >= 2 ** 40, String(error['offset']));
    assert.equal(error['have'], elf.byteLength);
  });

  it('VMCOREINFO with a printk_ringbuffer size of 2^40: E_LIMIT', async () => {
    const mem = new SynthMemory();
    const { keys } = writeLocklessLog(mem, [{ tsNsec: 1n, text: new Uint8Array([0x61]) }], 4, 10);
    const bad = keys.replace(/^SIZE\(printk_ringbuffer\)=\d+$/m, `SIZE(printk_ringbuffer)=${2 ** 40}`);
    assert.notEqual(bad, keys);
    const path = file('huge-prb', buildVmcore({ vmcoreinfo: `OSRELEASE=6.1.0\n${bad}`, mem }));
    const { rc, error } = await cli(['vmcore', 'dmesg', path]);
    assert.equal(rc, 255);
    assert.equal(error['code'], 'E_LIMIT');
    assert.match(String(error['message']), /^printk_ringbuffer is 1099511627776 bytes/);
  });

  it('a kdump-compressed file cut in its page data: E_TRUNCATED; a corrupt LZO page: E_FORMAT', () => {
    const k = kdump(elf, 'lzo');
    const failure = (bytes: Uint8Array) => {
      const e = typedFailure(bytes, 'kdump', false);
      assert.ok(e, 'the bad file was read without an error');
      assert.equal(exitCodeFor(e), 255);
      return e.toJSON();
    };
    // page_desc {offset, size, flags, page_flags} (diskdump_mod.h) after header, sub-header, bitmaps
    const h = DiskDumpHeader.decode(k);
    const descStart = (1 + h.sub_hdr_size + h.bitmap_blocks) * h.block_size;
    const dv = new DataView(k.buffer, k.byteOffset);
    let at = descStart;
    while (!(dv.getUint32(at + 12, true) & DUMP_DH_COMPRESSED_LZO)) at += PAGE_DESC_SIZE;
    const page = Number(dv.getBigUint64(at, true));
    const pageSize = dv.getUint32(at + 8, true);
    const cut = failure(k.subarray(0, page + 10));
    assert.equal(cut['code'], 'E_TRUNCATED');
    assert.deepEqual([cut['offset'], cut['need'], cut['have']], [page, pageSize, page + 10]);
    const flipped = k.slice();
    flipped.fill(0xff, page, page + pageSize);
    const bad = failure(flipped);
    assert.equal(bad['code'], 'E_FORMAT');
    assert.deepEqual([bad['format'], bad['offset']], ['lzo', 1]); // 0xff: a literal run of 0xff - 17 bytes
    assert.equal(bad['message'], 'LZO data is corrupt: literal run past the input');
  });

  it('a flattened stream cut inside a record: E_TRUNCATED with the record size and where it starts', async () => {
    const k = kdump(elf, 'zlib');
    const path = file('cut.flat', flatten(k).subarray(0, 8192));
    const { rc, error } = await cli(['vmcore', 'info', path]);
    assert.equal(rc, 255);
    assert.equal(error['code'], 'E_TRUNCATED');
    // 4 KiB header, 16-byte record header, then the record's k.byteLength bytes
    assert.deepEqual([error['offset'], error['need'], error['have']], [4096 + 16, k.byteLength, 8192]);
  });
});

/** makedumpfile -F: a 4 KiB header, then (offset, size) records and the end marker (IMPLEMENTATION). */
function flatten(file: Uint8Array): Uint8Array {
  const head = new Uint8Array(4096);
  head.set(new TextEncoder().encode('makedumpfile'));
  const dv = new DataView(head.buffer);
  dv.setBigUint64(16, 1n); // type, big-endian
  dv.setBigUint64(24, 1n); // version
  const rec = new Uint8Array(16);
  const rv = new DataView(rec.buffer);
  rv.setBigInt64(0, 0n);
  rv.setBigInt64(8, BigInt(file.byteLength));
  const end = new Uint8Array(16);
  new DataView(end.buffer).setBigInt64(0, -1n);
  new DataView(end.buffer).setBigInt64(8, -1n);
  return Buffer.concat([head, rec, file, end]);
}

describe('a corruption sweep: every failure is a typed error', () => {
  const { bytes: elf } = vmcore();
  const values = [0xffff_ffff_ffff_ffffn, 0x20_0000_0000_0000n];

  it('ELF vmcore: each 8-byte word of the headers and notes, and each truncation of them', () => {
    readAll(elf);
    const notesEnd = Number(new DataView(elf.buffer).getBigUint64(PHDR(1, P_OFFSET), true));
    let typed = 0;
    for (let at = 0; at + 8 <= notesEnd; at += 4) {
      for (const v of values)
        if (typedFailure(u64At(elf, at, v), `u64 0x${v.toString(16)} at ${at}`)) typed++;
    }
    for (let n = 0; n < notesEnd; n += 11) if (typedFailure(elf.subarray(0, n), `cut at ${n}`)) typed++;
    assert.ok(typed > 300, `${typed} typed failures`);
  });

  it('kdump-compressed: each word of the headers, bitmaps and page descriptors', () => {
    // (without page tables, which this synthetic dump lacks, the log is only found in an ELF vmcore)
    const k = kdump(elf, 'zlib');
    readAll(k, false);
    const bs = PS;
    const descsEnd = Math.min(k.byteLength, 8 * bs);
    let typed = 0;
    for (let at = 0; at + 8 <= descsEnd; at += at < bs + 64 ? 8 : 48) {
      for (const v of values)
        if (typedFailure(u64At(k, at, v), `u64 0x${v.toString(16)} at ${at}`, false)) typed++;
    }
    assert.ok(typed > 50, `${typed} typed failures`);
  });
});
