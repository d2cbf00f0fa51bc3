import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { FormatError, TruncatedError } from '../../../src/errors.js';
import { ET_EXEC } from '../../../src/formats/elf/ehdr.js';
import type { VmcoreSummary } from '../../../src/kdump/info.js';
import { bytesReader } from '../../../src/kdump/reader.js';
import { openElfVmcore, START_KERNEL_MAP } from '../../../src/kdump/vmcore-elf.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildElf } from '../../helpers/build-elf.js';
import {
  buildVmcore,
  PAGE_OFFSET,
  PHYS_START,
  SynthMemory,
  writeLocklessLog,
} from '../../helpers/build-vmcore.js';

const enc = (s: string) => new TextEncoder().encode(s);
const RIP = 0xffff_ffff_8123_4567n;
const RSP = 0xffff_c900_0001_3e58n;

function synth(opts: { zeroVaddr?: 'text' | 'ram'; extra?: string } = {}) {
  const mem = new SynthMemory();
  const { keys } = writeLocklessLog(
    mem,
    [
      { tsNsec: 1_000n, text: enc('Linux version 6.1.0-test') },
      { tsNsec: 5_000_000_000n, text: enc('sysrq: Trigger a crash') },
      { tsNsec: 5_000_100_000n, text: enc('Kernel panic - not syncing: sysrq triggered crash') },
      { tsNsec: 5_000_200_000n, text: enc('CPU: 0 PID: 96 Comm: sh') },
    ],
    4,
    10,
  );
  const vmcoreinfo = `OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=0\nKERNELOFFSET=0\n${keys}CRASHTIME=1700000000\n${opts.extra ?? ''}`;
  const bytes = buildVmcore({
    vmcoreinfo,
    mem,
    cpus: [
      { pid: 96, regs: { rip: RIP, rsp: RSP, rax: 1n } },
      { pid: 0, regs: { rip: RIP + 0x10n, rsp: RSP + 0x1000n } },
    ],
    ...(opts.zeroVaddr ? { zeroVaddr: opts.zeroVaddr } : {}),
  });
  return { bytes, mem, vm: openElfVmcore(bytesReader(bytes)) };
}

describe('ELF vmcore', () => {
  it('lists PT_LOADs, notes, CPUs with registers, VMCOREINFO', () => {
    const { vm } = synth();
    assert.equal(vm.arch, 'x86_64');
    assert.deepEqual(
      vm.loads.map((l) => [l.vaddr, l.paddr]),
      [
        [START_KERNEL_MAP + PHYS_START, PHYS_START],
        [PAGE_OFFSET + PHYS_START, PHYS_START],
      ],
    );
    assert.deepEqual(
      vm.notes.map((n) => [n.name, n.type]),
      [
        ['CORE', 1],
        ['CORE', 1],
        ['VMCOREINFO', 0],
      ],
    );
    assert.equal(vm.cpus.length, 2);
    assert.equal(vm.cpus[0]!.pid, 96);
    assert.equal(vm.cpus[0]!.regs.rip, RIP);
    assert.equal(vm.cpus[0]!.regs.rsp, RSP);
    assert.equal(vm.cpus[0]!.regs.rax, 1n);
    assert.equal(vm.cpus[1]!.regs.rip, RIP + 0x10n);
    assert.equal(vm.vmcoreinfo?.osrelease, '6.1.0-test');
    assert.equal(vm.directMapBase(), PAGE_OFFSET);
  });

  it('translates by p_vaddr first, then by the kernel-text and direct-map rules', () => {
    const text = START_KERNEL_MAP + PHYS_START + 0x10n;
    const ram = PAGE_OFFSET + PHYS_START + 0x2_0000n;
    assert.equal(synth().vm.place(text)?.via, 'vaddr');
    const noText = synth({ zeroVaddr: 'text' }).vm;
    assert.equal(noText.place(text)?.via, 'kernel-text');
    // The first PT_LOAD holding the physical address: the (duplicate) kernel-text segment itself.
    assert.equal(noText.place(text)?.offset, synth().vm.place(text)?.offset);
    // Without a direct-map p_vaddr, only NUMBER(PAGE_OFFSET) (signed, %ld) can place RAM addresses.
    assert.equal(synth({ zeroVaddr: 'ram' }).vm.place(ram), undefined);
    const given = `NUMBER(PAGE_OFFSET)=${BigInt.asIntN(64, PAGE_OFFSET)}\n`;
    assert.equal(synth({ zeroVaddr: 'ram', extra: given }).vm.place(ram)?.via, 'direct-map');
  });

  it('reads the log through every translation path alike', async () => {
    const { formatKernelLog, readKernelLog } = await import('../../../src/kdump/dmesg/index.js');
    const text = (vm: ReturnType<typeof synth>['vm']) =>
      formatKernelLog(readKernelLog({ mem: vm, le: true, info: vm.vmcoreinfo! }));
    const base = text(synth().vm);
    assert.match(base, /^\[ {4}0\.000001\] Linux version 6\.1\.0-test\n/);
    assert.equal(text(synth({ zeroVaddr: 'text' }).vm), base);
    const given = `NUMBER(PAGE_OFFSET)=${BigInt.asIntN(64, PAGE_OFFSET)}\n`;
    assert.equal(text(synth({ zeroVaddr: 'ram', extra: given }).vm), base);
    assert.throws(() => text(synth({ zeroVaddr: 'ram' }).vm), /no PT_LOAD covers vaddr 0xffff888001/);
  });

  it('reads zeros past p_filesz and across segment ends; refuses holes', () => {
    const { bytes } = synth();
    const patched = bytes.slice();
    const dv = new DataView(patched.buffer);
    const ram = 64 + 2 * 56; // third phdr: the direct map
    dv.setBigUint64(ram + 40, dv.getBigUint64(ram + 40, true) + 0x1000n, true); // p_memsz grows
    const vm = openElfVmcore(bytesReader(patched));
    const end = PAGE_OFFSET + PHYS_START + 0x10_0000n;
    assert.deepEqual(vm.readVirt(end - 4n, 8).subarray(4), new Uint8Array(4));
    assert.throws(() => vm.readVirt(end + 0x1000n, 1), FormatError);
  });

  it('rejects non-core, ELF32 and truncated files', () => {
    assert.throws(() => openElfVmcore(bytesReader(buildElf({ type: ET_EXEC }).bytes)), /not ET_CORE/);
    assert.throws(() => openElfVmcore(bytesReader(buildElf({ class: 32, type: 4 }).bytes)), /ELF64/);
    assert.throws(() => openElfVmcore(bytesReader(synth().bytes.subarray(0, 100))), TruncatedError);
    assert.throws(() => openElfVmcore(bytesReader(new Uint8Array(64))), /bad ELF magic/);
  });
});

describe('kexec-ts vmcore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-vmcore-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vmcore');
  writeFileSync(file, synth().bytes);

  it('info --json: release, registers, crash time, panic line', async () => {
    const io = captureIo();
    assert.equal(await main(['vmcore', 'info', file, '--json'], { io }), 0);
    const s = JSON.parse(io.out) as VmcoreSummary;
    assert.equal(s.osrelease, '6.1.0-test');
    assert.deepEqual(
      s.cpus.map((c) => [c.pid, c.rip, c.rsp]),
      [
        [96, `0x${RIP.toString(16)}`, `0x${RSP.toString(16)}`],
        [0, `0x${(RIP + 0x10n).toString(16)}`, `0x${(RSP + 0x1000n).toString(16)}`],
      ],
    );
    assert.deepEqual(s.crashTime, { epoch: 1700000000, iso: '2023-11-14T22:13:20.000Z' });
    assert.deepEqual(s.log, {
      format: 'lockless',
      records: 4,
      panic: 'Kernel panic - not syncing: sysrq triggered crash',
    });
  });

  it('a CRASHTIME out of Date range is reported, not thrown', async () => {
    const { summarizeVmcore } = await import('../../../src/kdump/info.js');
    const s = summarizeVmcore(synth({ extra: 'CRASHTIME=9007199254740991\n' }).vm);
    assert.equal(s.crashTime?.iso, 'out of range');
  });

  it('info (text) and dmesg', async () => {
    const io = captureIo();
    assert.equal(await main(['vmcore', 'info', file], { io }), 0);
    assert.match(io.out, /osrelease: +6\.1\.0-test/);
    assert.match(io.out, /cpu 0: pid 96 rip 0xffffffff81234567 rsp 0xffffc90000013e58/);
    const d = captureIo();
    assert.equal(await main(['vmcore', 'dmesg', file], { io: d }), 0);
    assert.equal(d.out.split('\n')[2], '[    5.000100] Kernel panic - not syncing: sysrq triggered crash');
  });

  it('usage errors and unreadable files', async () => {
    const io = captureIo();
    assert.equal(await main(['vmcore', 'frobnicate', file], { io }), 1);
    assert.match(io.err, /unknown command 'frobnicate'/);
    const missing = captureIo();
    assert.equal(await main(['vmcore', 'dmesg', join(dir, 'nope')], { io: missing }), 1);
    assert.match(missing.err, /ENOENT/);
  });
});

describe('corrupt dumps', () => {
  it('random byte mutations raise only KexecError (seeded)', async () => {
    const { KexecError } = await import('../../../src/errors.js');
    const { readKernelLog } = await import('../../../src/kdump/dmesg/index.js');
    const { summarizeVmcore } = await import('../../../src/kdump/info.js');
    const { bytes, vm } = synth();
    // Mutate where it matters: headers and notes, the ring's control words, descriptors and infos.
    const rbVa = vm.readU64(vm.vmcoreinfo!.symbols['prb']!);
    const at = (va: bigint) => vm.place(va)!.offset!;
    const hot = [
      [0, 64 + 3 * 56 + 2000], // ELF header, program headers, notes
      [at(rbVa), 88], // printk_ringbuffer
      [at(vm.readU64(rbVa + 8n)), 16 * 24], // prb_desc[]
      [at(vm.readU64(rbVa + 16n)), 16 * 88], // printk_info[]
      [at(vm.readU64(rbVa + 56n)), 1024], // text data ring
    ] as const;
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let iter = 0; iter < 400; iter++) {
      const b = bytes.slice();
      for (let k = 0; k < 1 + rand(4); k++) {
        const [start, len] = hot[rand(hot.length)]!;
        b[Math.min(b.byteLength - 1, start + rand(len))] = rand(256);
      }
      try {
        const m = openElfVmcore(bytesReader(b));
        summarizeVmcore(m);
        if (m.vmcoreinfo) readKernelLog({ mem: m, le: true, info: m.vmcoreinfo });
      } catch (e) {
        assert.ok(e instanceof KexecError, `iteration ${iter}: ${e instanceof Error ? e.stack : e}`);
      }
    }
  });
});
