// kdump on the kexec_load path (-c -p): the ELF core headers, the crash segment table, the capture
// kernel's e820 and command line, on the fake 1 GiB guest of crash-fixture.ts; the headers read back
// with our own vmcore reader after a simulated capture kernel turned them into /proc/vmcore.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { FileError, StateError } from '../../../src/errors.js';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { decodeElfHeader } from '../../../src/formats/elf/ehdr.js';
import { encodeNotes } from '../../../src/formats/elf/note.js';
import { decodeProgramHeaders, PT_LOAD, PT_NOTE } from '../../../src/formats/elf/phdr.js';
import { ElfPrstatusX86_64, NT_PRSTATUS } from '../../../src/kdump/prstatus.js';
import { openElfVmcore } from '../../../src/kdump/vmcore-elf.js';
import { captureE820, crashMemoryFromIomem } from '../../../src/kexec/crash/crash-memory.js';
import {
  kallsymsStext,
  kernelLayoutFromKcore,
  readKernelLayout,
} from '../../../src/kexec/crash/kernel-layout.js';
import { readCpuNotes, readVmcoreinfoNote } from '../../../src/kexec/crash/notes.js';
import { prepareKdump } from '../../../src/kexec/crash/plan.js';
import { BootParams, E820Entry } from '../../../src/kexec/x86/boot-params.js';
import { planX86_64KexecLoad } from '../../../src/kexec/x86/plan-from-sys.js';
import { range } from '../../../src/range.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { KEXEC_ARCH_X86_64, KEXEC_CRASH_LOADED, KEXEC_ON_CRASH } from '../../../src/sys/types.js';
import { PM_SIZE, syntheticBzImage } from '../x86/synthetic-bzimage.js';
import {
  CPU_NOTES,
  CRASH,
  crashSys,
  kcoreLoads,
  PAGE_OFFSET,
  TEXT_PADDR,
  TEXT_SIZE,
  TEXT_VADDR,
  VMCOREINFO,
} from './crash-fixture.js';
import { OldMemory, procVmcore } from './proc-vmcore-sim.js';

const CMDLINE = 'console=ttyS0 irqpoll';
const INITRD = new Uint8Array(4 << 20).fill(0x5a);
const req = {
  image: syntheticBzImage(),
  initrd: INITRD,
  cmdline: CMDLINE,
  crash: true,
  rngSeed: new Uint8Array(32),
};
/** 0x2f000000 / 1024: the kernel parses elfcorehdr=770048K with memparse. */
const ELFCOREHDR = 'elfcorehdr=770048K';

describe('crash memory from /proc/iomem', () => {
  const mem = crashMemoryFromIomem(crashSys().readText('/proc/iomem')!);
  it('takes the reservation, RAM minus the reservation and the first MiB, and the firmware ranges', () => {
    assert.deepEqual(mem.region, CRASH);
    assert.deepEqual(mem.dump, [
      { start: 0x10_0000n, end: 0x2f00_0000n },
      { start: 0x3f00_0000n, end: 0x3ffd_d000n },
    ]);
    assert.deepEqual(mem.lowRam, [{ start: 0x1000n, end: 0x9_fc00n }]);
    assert.equal(mem.kernelCode, TEXT_PADDR);
    assert.equal(mem.totalRam, 0x9_ec00n + 0x3fed_d000n);
    assert.deepEqual(
      mem.firmware.map((r) => [r.start, r.end, r.type]),
      [
        [0n, 0x1000n, 'reserved'],
        [0x9_fc00n, 0xa_0000n, 'reserved'],
        [0xf_0000n, 0x10_0000n, 'reserved'],
        [0x3ffd_d000n, 0x4000_0000n, 'reserved'],
        [0xb000_0000n, 0xc000_0000n, 'reserved'], // nested under "PCI ECAM": counted, as the kernel does
        [0xfed1_c000n, 0xfed2_0000n, 'reserved'],
        [0xfeff_c000n, 0xff00_0000n, 'reserved'],
        [0xfffc_0000n, 0x1_0000_0000n, 'reserved'],
      ],
    );
  });
  it('a crashkernel=X,high boot: the highest range is the region, both reservations are RAM for the capture kernel', () => {
    const iomem = `00001000-0009fbff : System RAM
00100000-bffdffff : System RAM
  a0000000-afffffff : Crash kernel
100000000-23fffffff : System RAM
  230000000-23fffffff : Crash kernel
  240000000-2400fffff : GART
`;
    const m = crashMemoryFromIomem(iomem);
    assert.deepEqual(m.region, { start: 0x2_3000_0000n, end: 0x2_4000_0000n });
    assert.deepEqual(m.dump, [
      { start: 0x10_0000n, end: 0xa000_0000n },
      { start: 0xb000_0000n, end: 0xbffe_0000n },
      { start: 0x1_0000_0000n, end: 0x2_3000_0000n },
    ]);
    assert.deepEqual(
      captureE820(m, [range(0x2_3000_0000n, 0x2_3000_1000n)]).map((r) => [r.start, r.end, r.type]),
      [
        [0x1000n, 0x9_fc00n, 'ram'],
        [0xa000_0000n, 0xb000_0000n, 'ram'],
        [0x2_3000_1000n, 0x2_4000_0000n, 'ram'],
      ],
    );
  });
  it('without a visible reservation: StateError', () => {
    assert.throws(() => crashMemoryFromIomem('00100000-7ffdffff : System RAM\n'), StateError);
    // What a reader without CAP_SYS_ADMIN sees.
    assert.throws(() => crashMemoryFromIomem('00000000-00000000 : Crash kernel\n'), StateError);
  });
});

describe('crash notes from sysfs', () => {
  it('vmcoreinfo "%pa %x" with or without 0x; crash_notes hex, size decimal (1024 when missing); CPUs in number order', () => {
    const sys = new FakeSys({
      files: {
        '/sys/kernel/vmcoreinfo': '0x000000003f9f8000 1000\n',
        '/sys/devices/system/cpu/cpu10/crash_notes': '3fa18a00\n',
        '/sys/devices/system/cpu/cpu2/crash_notes': '3f918a00\n',
        '/sys/devices/system/cpu/cpu2/crash_notes_size': '432\n',
        '/sys/devices/system/cpu/cpu3/online': '0\n', // no crash_notes: skipped
        '/sys/devices/system/cpu/cpufreq/boost': '1\n',
      },
    });
    assert.deepEqual(readVmcoreinfoNote(sys), { addr: 0x3f9f_8000n, size: 0x1000n });
    sys.setText('/sys/kernel/vmcoreinfo', '3f9f8000 1000\n');
    assert.deepEqual(readVmcoreinfoNote(sys), { addr: 0x3f9f_8000n, size: 0x1000n });
    assert.deepEqual(readCpuNotes(sys), [
      { cpu: 2, addr: 0x3f91_8a00n, size: 432n },
      { cpu: 10, addr: 0x3fa1_8a00n, size: 1024n },
    ]);
  });
});

describe('kernel layout from /proc/kcore', () => {
  it('page_offset from the RAM segments, the text segment from _stext', () => {
    assert.deepEqual(readKernelLayout(crashSys()), {
      pageOffset: PAGE_OFFSET,
      pageOffsetFrom: 'kcore-ram',
      textVaddr: TEXT_VADDR,
      textSize: TEXT_SIZE,
      textFrom: 'kallsyms-_stext',
    });
  });
  it("without p_paddr: kexec-tools' rule (lowest PT_LOAD rounded down to 1 GiB); without _stext: the text bounds", () => {
    const layout = kernelLayoutFromKcore(kcoreLoads(false), undefined);
    assert.equal(layout.pageOffset, PAGE_OFFSET);
    assert.equal(layout.pageOffsetFrom, 'kcore-lowest');
    assert.equal(layout.textVaddr, TEXT_VADDR);
    assert.equal(layout.textFrom, 'kcore-bounds');
    // kptr_restrict shows zeros: same as no symbol.
    assert.equal(kallsymsStext('0000000000000000 T _stext\n'), undefined);
    assert.equal(kallsymsStext('ffffffff81000000 t _stext\n'), 0xffff_ffff_8100_0000n);
  });
  it('reads only the headers (pread of the ELF header, then the program header table)', () => {
    const sys = crashSys();
    readKernelLayout(sys);
    assert.deepEqual(
      sys.callsOf('readRange').map((c) => c.args),
      [
        ['/proc/kcore', 0, 64],
        ['/proc/kcore', 64, 7 * 56],
      ],
    );
  });
  it('an unreadable /proc/kcore is a FileError whose hint names kexec_file_load', () => {
    const err = (() => {
      try {
        readKernelLayout(crashSys({ kcore: false }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof FileError);
    assert.equal(err.path, '/proc/kcore');
    assert.match(err.hint ?? '', /kexec_file_load/);
  });
});

describe('the ELF core headers', () => {
  const prepared = prepareKdump(crashSys(), { cmdline: CMDLINE });
  const bytes = prepared.elfcorehdr.bytes;

  it('ELF64 ET_CORE header, 6 program headers, padded to 1 KiB', () => {
    assert.equal(bytes.length, 1024);
    // e_ident: 7f 'E' 'L' 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE; e_type ET_CORE (4),
    // e_machine EM_X86_64 (62), e_version 1, e_entry 0, e_phoff 64, e_shoff 0, e_flags 0, e_ehsize 64,
    // e_phentsize 56, e_phnum 6, no sections.
    assert.equal(
      Buffer.from(bytes.subarray(0, 64)).toString('hex'),
      '7f454c46020101000000000000000000' +
        '04003e00010000000000000000000000' +
        '40000000000000000000000000000000' +
        '00000000400038000600000000000000',
    );
    assert.ok(bytes.subarray(64 + 6 * 56).every((b) => b === 0));
  });

  it('per-CPU notes, VMCOREINFO, kernel text, then RAM at direct-map addresses; p_offset = p_paddr', () => {
    const phdrs = decodeProgramHeaders(bytes, decodeElfHeader(bytes));
    const row = (type: number, flags: number, paddr: bigint, vaddr: bigint, size: bigint) => ({
      p_type: type,
      p_flags: flags,
      p_offset: paddr,
      p_vaddr: vaddr,
      p_paddr: paddr,
      p_filesz: size,
      p_memsz: size,
      p_align: 0n,
    });
    assert.deepEqual(phdrs, [
      row(PT_NOTE, 0, CPU_NOTES[0]!.addr, 0n, 432n),
      row(PT_NOTE, 0, CPU_NOTES[1]!.addr, 0n, 432n),
      row(PT_NOTE, 0, VMCOREINFO.addr, 0n, VMCOREINFO.size),
      // The headers kexec-tools' kexec -p built on the lab's Debian 6.1 guest: 0xffffffffa5800000 at 0x18000000, 0x3430000.
      row(PT_LOAD, 7, TEXT_PADDR, TEXT_VADDR, TEXT_SIZE),
      row(PT_LOAD, 7, 0x10_0000n, PAGE_OFFSET + 0x10_0000n, 0x2ef0_0000n),
      row(PT_LOAD, 7, 0x3f00_0000n, PAGE_OFFSET + 0x3f00_0000n, 0xfd_d000n),
    ]);
  });

  it('read back through a simulated capture kernel with our vmcore reader', () => {
    const old = new OldMemory();
    const prstatus = (pid: number) => {
      const desc = new Uint8Array(336);
      ElfPrstatusX86_64.encode({ pr_pid: pid }, desc);
      return encodeNotes([{ name: 'CORE', type: NT_PRSTATUS, desc }], 'le');
    };
    old.put(CPU_NOTES[0]!.addr, prstatus(96));
    old.put(CPU_NOTES[1]!.addr, prstatus(0));
    const info =
      'OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nNUMBER(phys_base)=-226492416\nCRASHTIME=1700000000\n';
    old.put(VMCOREINFO.addr, encodeNotes([{ name: 'VMCOREINFO', type: 0, desc: Buffer.from(info) }], 'le'));
    const marker = Buffer.from('kexec-ts crash marker');
    old.put(TEXT_PADDR + 0x12_3450n, marker); // kernel text, also in the first RAM range
    old.put(0x3f80_0000n, marker); // above the reservation
    old.put(0x5_0000n, marker); // first MiB: not dumped
    old.put(0x3000_0000n, marker); // inside the reservation: not dumped
    const vm = openElfVmcore(procVmcore(bytes, old));
    assert.deepEqual(
      vm.cpus.map((c) => c.pid),
      [96, 0],
    );
    assert.equal(vm.vmcoreinfo?.osrelease, '6.1.0-56-amd64');
    assert.equal(vm.directMapBase(), PAGE_OFFSET);
    const read = (va: bigint) => Buffer.from(vm.readVirt(va, marker.length)).toString();
    assert.equal(read(TEXT_VADDR + 0x12_3450n), marker.toString());
    assert.equal(read(PAGE_OFFSET + TEXT_PADDR + 0x12_3450n), marker.toString());
    assert.equal(read(PAGE_OFFSET + 0x3f80_0000n), marker.toString());
    assert.throws(() => vm.readVirt(PAGE_OFFSET + 0x5_0000n, 8), /no PT_LOAD covers/);
    assert.throws(() => vm.readVirt(PAGE_OFFSET + 0x3000_0000n, 8), /no PT_LOAD covers/);
  });
});

describe('the crash segment table and boot_params', () => {
  const plan = planX86_64KexecLoad(crashSys(), req);

  it('every segment inside the reservation; the headers at its lowest page, as the kernel places them', () => {
    assert.deepEqual(
      plan.layout.map((l) => [l.role, l.mem, l.memsz, l.bufsz]),
      [
        ['elfcorehdr', 0x2f00_0000n, 0x1000n, 1024],
        ['setup_data', 0x2f00_1000n, 0x1000n, 48], // RNG seed, lowest from 1 MiB
        ['kernel', 0x2f20_0000n, 0x180_0000n, PM_SIZE], // pref_address is outside: lowest 2 MiB-aligned
        ['purgatory', 0x3ebf_9000n, 0x5000n, 10128],
        ['boot_params', 0x3ebf_e000n, 0x2000n, 0x1000 + `${CMDLINE} ${ELFCOREHDR}`.length + 1],
        ['initrd', 0x3ec0_0000n, 0x40_0000n, INITRD.length], // highest in the reservation
      ],
    );
    assert.equal(plan.entry, 0x3ebf_9000n);
    assert.equal(plan.flags, KEXEC_ARCH_X86_64 | KEXEC_ON_CRASH);
    assert.equal(plan.flags, 0x3e_0001);
  });

  it('the command line gains elfcorehdr=<KiB>K; the e820 is the capture map', () => {
    const zp = plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf;
    assert.equal(Buffer.from(zp.subarray(0x1000)).toString('latin1'), `${CMDLINE} ${ELFCOREHDR}\0`);
    const bp = BootParams.decode(zp);
    const e820 = Array.from({ length: bp.e820_entries }, (_, i) => {
      const e = E820Entry.decode(bp.e820_table, i * 20);
      return [e.addr, e.addr + e.size, e.type];
    });
    assert.deepEqual(e820, [
      [0n, 0x1000n, 2],
      [0x1000n, 0x9_fc00n, 1], // the first MiB's RAM (reserved by the crashed kernel since 5.5)
      [0x9_fc00n, 0xa_0000n, 2],
      [0xf_0000n, 0x10_0000n, 2],
      [0x2f00_1000n, 0x3f00_0000n, 1], // the reservation minus the ELF core headers
      [0x3ffd_d000n, 0x4000_0000n, 2],
      [0xb000_0000n, 0xc000_0000n, 2],
      [0xfed1_c000n, 0xfed2_0000n, 2],
      [0xfeff_c000n, 0xff00_0000n, 2],
      [0xfffc_0000n, 0x1_0000_0000n, 2],
    ]);
    assert.equal(bp.alt_mem_k, 0); // no RAM range holds 1 MiB in the capture map
    assert.equal(SetupHeader.decode(zp).type_of_loader, 0xff);
  });

  it('-d lines name the region, the headers and where the layout came from', () => {
    assert.deepEqual(plan.notes?.slice(-3), [
      `kdump: crash region 0x2f000000-0x3effffff, ${ELFCOREHDR}`,
      'kdump: 2 cpu notes, vmcoreinfo 0x1b0d7000, 6 program headers, 2 RAM ranges',
      'kdump: page_offset 0xff34e18ec0000000 (kcore-ram), text 0xffffffffa5800000 size 0x3430000 (kallsyms-_stext) at 0x18000000',
    ]);
  });

  it('--mem-min moves the headers (and everything else) up inside the reservation', () => {
    const p = planX86_64KexecLoad(crashSys(), { ...req, memMin: 0x3000_0000n });
    assert.deepEqual(
      p.layout.slice(0, 3).map((l) => [l.role, l.mem]),
      [
        ['elfcorehdr', 0x3000_0000n],
        ['setup_data', 0x3000_1000n],
        ['kernel', 0x3020_0000n],
      ],
    );
  });
});

describe('kexec-ts -c -p against the fake kernel', () => {
  it('loads with kexec_load(KEXEC_ON_CRASH), kexec_crash_loaded becomes 1, no sync', async () => {
    const sys = crashSys();
    sys.setFile('/boot/vmlinuz', syntheticBzImage());
    sys.setFile('/proc/cmdline', 'root=/dev/vda crashkernel=256M\n');
    const io = captureIo();
    const code = await main(['-c', '-p', '/boot/vmlinuz', '--reuse-cmdline', '--append=irqpoll', '-d'], {
      sys,
      io,
    });
    assert.equal(code, 0, io.err);
    const [entry, segments, flags] = sys.callsOf('kexecLoad')[0]!.args as [
      bigint,
      { mem: bigint; buf: Uint8Array }[],
      number,
    ];
    assert.equal(flags, 0x3e_0001);
    assert.equal(entry, sys.images.crash?.entry);
    assert.ok(segments.every((s) => s.mem >= CRASH.start && s.mem < CRASH.end));
    assert.equal(sys.readText(KEXEC_CRASH_LOADED), '1\n');
    assert.equal(sys.images.normal, undefined);
    assert.deepEqual(sys.callsOf('sync'), []);
    const zp = segments.find(
      (s) => s.buf.length > 0x1000 && Buffer.from(s.buf.subarray(0x202, 0x206)).toString() === 'HdrS',
    )!;
    assert.equal(
      Buffer.from(zp.buf.subarray(0x1000)).toString('latin1'),
      `root=/dev/vda irqpoll ${ELFCOREHDR}\0`,
    );
    assert.match(io.err, /elfcorehdr +0x2f000000-0x2f000fff/);
  });
  it('without "Kernel code" in /proc/iomem: no text PT_LOAD; an empty command line becomes elfcorehdr= alone', () => {
    const iomem = crashSys()
      .readText('/proc/iomem')!
      .replace(/.*Kernel code\n/, '');
    const p = prepareKdump(crashSys({ iomem }), { cmdline: '' });
    assert.equal(p.cmdline, ELFCOREHDR);
    const phdrs = decodeProgramHeaders(p.elfcorehdr.bytes, decodeElfHeader(p.elfcorehdr.bytes));
    assert.deepEqual(
      phdrs.map((h) => h.p_type),
      [PT_NOTE, PT_NOTE, PT_NOTE, PT_LOAD, PT_LOAD],
    );
  });
});
