import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readMemoryMap } from '../../../src/kexec/memory/memmap.js';
import { planBzImage64Load } from '../../../src/kexec/x86/bzimage64-load.js';
import { segmentsDigest } from '../../../src/kexec/x86/digest.js';
import {
  PURGATORY_X86_64_ASSEMBLER,
  PURGATORY_X86_64_MEMSZ,
  PURGATORY_X86_64_SHA256,
  PURGATORY_X86_64_SOURCE_SHA256,
} from '../../../src/purgatory/x86_64-bytes.js';
import { PurgatoryHeader, patchPurgatory, purgatoryX86_64 } from '../../../src/purgatory/x86_64-header.js';
import type { KexecSegment } from '../../../src/sys/types.js';
import { q35Sys } from '../memory/q35-fixture.js';
import { syntheticBzImage } from './synthetic-bzimage.js';

// dist/test/unit/x86 -> repository root
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'src/purgatory/purgatory-x86_64.S');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const tool = (cmd: string, args: string[]): string | undefined => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
};
const work = mkdtempSync(join(tmpdir(), 'kexec-ts-purgatory-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('committed purgatory bytes', () => {
  it('were built from the current source (rerun scripts/build-purgatory.sh when this fails)', () => {
    assert.equal(sha256(readFileSync(SOURCE)), PURGATORY_X86_64_SOURCE_SHA256);
  });
  it('match their recorded sha256 and carry our header', () => {
    const p = purgatoryX86_64();
    assert.equal(sha256(p.bytes), PURGATORY_X86_64_SHA256);
    assert.equal(p.bytes[0], 0xe9); // jmp rel32 over the header
    const h = PurgatoryHeader.decode(p.bytes);
    assert.equal(h.magic, 'KTSPURG1');
    assert.equal(h.header_size, 0x180);
    assert.equal(new DataView(p.bytes.buffer).getUint32(1, true), 0x180 - 5);
    assert.ok(h.verify_offset > 0x180 && h.verify_offset < p.bytes.length);
    assert.ok(PURGATORY_X86_64_MEMSZ > p.bytes.length + 4096, 'bss holds a 4 KiB stack');
  });
  it('reassemble to the same bytes, with header symbols where the TS table says', (t) => {
    const version = tool('as', ['--version'])?.split('\n')[0];
    if (version === undefined) return t.skip('no GNU as on this host');
    if (version !== PURGATORY_X86_64_ASSEMBLER)
      return t.skip(`assembler is "${version}", bytes came from another`);
    const dir = join(work, 'asm');
    execFileSync(join(ROOT, 'scripts/build-purgatory.sh'), ['--check', dir]);
    assert.equal(sha256(readFileSync(join(dir, 'purgatory.bin'))), PURGATORY_X86_64_SHA256);
    const symbols = new Map(
      execFileSync('nm', [join(dir, 'purgatory.elf')], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([addr, , name]) => [name!, Number.parseInt(addr!, 16)]),
    );
    const f = PurgatoryHeader.fields;
    assert.equal(symbols.get('entry_rip'), f.entry_rip.offset);
    assert.equal(symbols.get('entry_rsi'), f.entry_rsi.offset);
    assert.equal(symbols.get('entry_rsp'), f.entry_rsp.offset);
    assert.equal(symbols.get('skip_checks'), f.skip_checks.offset);
    assert.equal(symbols.get('serial_port'), f.serial_port.offset);
    assert.equal(symbols.get('expected_digest'), f.expected_digest.offset);
    assert.equal(symbols.get('computed_digest'), f.computed_digest.offset);
    assert.equal(symbols.get('regions'), f.regions.offset);
    assert.equal(
      symbols.get('verify_regions'),
      PurgatoryHeader.decode(purgatoryX86_64().bytes).verify_offset,
    );
    assert.equal(symbols.get('purgatory_end'), PURGATORY_X86_64_MEMSZ);
  });
});

describe('patchPurgatory', () => {
  const vars = { entryRip: 1n, entryRsi: 2n, skipChecks: false, serialPort: 0, digest: new Uint8Array(32) };
  it('refuses regions the purgatory cannot hash', () => {
    assert.throws(
      () => patchPurgatory(purgatoryX86_64().bytes, { ...vars, regions: [{ start: 0n, len: 100n }] }),
      /multiple of 64/,
    );
    const many = Array.from({ length: 17 }, () => ({ start: 0n, len: 64n }));
    assert.throws(
      () => patchPurgatory(purgatoryX86_64().bytes, { ...vars, regions: many }),
      /table holds 16/,
    );
    assert.throws(() => patchPurgatory(new Uint8Array(0x200), { ...vars, regions: [] }), /magic/);
  });
  it('the TS digest is node:crypto over the segments padded with zeros to memsz', () => {
    const segs: KexecSegment[] = [
      { buf: new Uint8Array([1, 2, 3]), mem: 0x1000n, memsz: 0x1000n },
      { buf: new Uint8Array(0x1000).fill(9), mem: 0x3000n, memsz: 0x3000n },
    ];
    const flat = new Uint8Array(0x4000);
    flat.set([1, 2, 3]);
    flat.fill(9, 0x1000, 0x2000);
    assert.equal(Buffer.from(segmentsDigest(segs)).toString('hex'), sha256(flat));
  });
});

describe('the assembly SHA-256 (host self-test: verify_regions runs in user space)', () => {
  const cc = tool('gcc', ['--version']) !== undefined;
  const selftest = join(work, 'selftest');
  const plan = planBzImage64Load({
    image: syntheticBzImage(),
    initrd: new Uint8Array(4 << 20).map((_, i) => (i * 31) & 0xff),
    cmdline: 'console=ttyS0',
    memmap: readMemoryMap(q35Sys()),
  });
  const purg = plan.segments.find((s) => s.mem === plan.entry)!;
  const others = plan.segments.filter((s) => s !== purg);
  const run = (corrupt: boolean): string => {
    if (!cc) return '';
    execFileSync('gcc', ['-O1', '-o', selftest, join(ROOT, 'src/purgatory/selftest.c')]);
    writeFileSync(join(work, 'purgatory.bin'), purg.buf);
    const files = others.map((s, i) => {
      const mem = new Uint8Array(Number(s.memsz));
      mem.set(s.buf);
      if (corrupt && i === others.length - 1) mem[mem.length - 1] = (mem[mem.length - 1] ?? 0) ^ 0xff;
      const path = join(work, `region${i}`);
      writeFileSync(path, mem);
      return path;
    });
    return execFileSync(selftest, [join(work, 'purgatory.bin'), String(PURGATORY_X86_64_MEMSZ), ...files], {
      encoding: 'utf8',
    }).trim();
  };
  it('agrees with node:crypto on a planned load', (t) => {
    if (!cc) return t.skip('no gcc on this host');
    assert.equal(run(false), `0 ${Buffer.from(plan.purgatory.digest).toString('hex')}`);
  });
  it('reports a mismatch when one byte differs', (t) => {
    if (!cc) return t.skip('no gcc on this host');
    assert.match(run(true), /^1 [0-9a-f]{64}$/);
    assert.notEqual(run(true).slice(2), Buffer.from(plan.purgatory.digest).toString('hex'));
  });
});
