import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LayoutError } from '../../../src/errors.js';
import { extractVmlinux } from '../../../src/formats/bzimage/extract.js';
import { SetupHeader } from '../../../src/formats/bzimage/setup-header.js';
import { ET_DYN } from '../../../src/formats/elf/ehdr.js';
import { loadKernel } from '../../../src/kexec/load.js';
import { readMemoryMap } from '../../../src/kexec/memory/memmap.js';
import { BootParams } from '../../../src/kexec/x86/boot-params.js';
import { segmentsDigest } from '../../../src/kexec/x86/digest.js';
import { physicalEntry, planElfX86_64Load } from '../../../src/kexec/x86/elf-x86_64-load.js';
import { PurgatoryHeader } from '../../../src/purgatory/x86_64-header.js';
import { KEXEC_ARCH_X86_64 } from '../../../src/sys/types.js';
import { buildVmlinux, type VmlinuxLoad } from '../../helpers/build-elf.js';
import { q35Sys } from '../memory/q35-fixture.js';

const memmap = readMemoryMap(q35Sys());
const INITRD = new Uint8Array(4 * 1024 * 1024).fill(0x5a);
const CMDLINE = 'console=ttyS0 root=/dev/ram0';
const SEED = new Uint8Array(32).map((_, i) => i);
const KVA = 0xffffffff80000000n; // __START_KERNEL_map: virtual = physical + this for the kernel image
// A vmlinux in miniature: text, data with .bss beyond the file bytes, and a per-CPU segment linked at
// virtual 0 (as .data..percpu is), each at its physical address.
const LOADS: VmlinuxLoad[] = [
  { vaddr: KVA + 0x1000000n, paddr: 0x1000000n, filesz: 0x2345, memsz: 0x2345, fill: 0x11 },
  { vaddr: KVA + 0x1200000n, paddr: 0x1200000n, filesz: 0x1000, memsz: 0x3000, fill: 0x22 },
  { vaddr: 0n, paddr: 0x1203000n, filesz: 0x800, memsz: 0x800, fill: 0x33 },
];
const VMLINUX = buildVmlinux(LOADS, 0x1000000n);
const base = { image: VMLINUX, initrd: INITRD, cmdline: CMDLINE, memmap, rngSeed: SEED } as const;

describe('planElfX86_64Load on the q35 2 GiB map (crash kernel 0x70000000-0x77ffffff reserved)', () => {
  const plan = planElfX86_64Load(base);

  it('puts every PT_LOAD at its p_paddr and the rest where a bzImage64 plan puts it', () => {
    assert.deepEqual(
      plan.layout.map((l) => [l.role, l.mem, l.memsz, l.bufsz]),
      [
        ['setup_data', 0x100000n, 0x1000n, 48], // RNG seed, lowest from 1 MiB
        ['kernel', 0x1000000n, 0x3000n, 0x2345], // text: memsz rounded up to a page
        ['kernel', 0x1200000n, 0x3000n, 0x1000], // data + .bss: the kernel zero-fills past bufsz
        ['kernel', 0x1203000n, 0x1000n, 0x800], // per-CPU, linked at virtual 0
        ['purgatory', 0x7fbd9000n, 0x5000n, 10128],
        ['boot_params', 0x7fbde000n, 0x2000n, 0x1000 + CMDLINE.length + 1],
        ['initrd', 0x7fbe0000n, 0x400000n, INITRD.length], // highest below 2 GiB (initrd_addr_max)
      ],
    );
    assert.equal(plan.entry, 0x7fbd9000n);
    assert.equal(plan.flags, KEXEC_ARCH_X86_64);
    assert.deepEqual(plan.kernel, { mem: 0x1000000n, entry64: 0x1000000n }); // e_entry, no +0x200
    const seg = (mem: bigint) => plan.segments.find((s) => s.mem === mem)!.buf;
    assert.ok(seg(0x1000000n).every((b) => b === 0x11));
    assert.ok(seg(0x1200000n).every((b) => b === 0x22));
    assert.ok(seg(0x1203000n).every((b) => b === 0x33));
  });

  it('makes up the setup header a vmlinux lacks (header.S values) and fills the loader fields', () => {
    const zp = plan.segments.find((s) => s.mem === plan.bootParams.mem)!.buf;
    const hdr = SetupHeader.decode(zp);
    const bp = BootParams.decode(zp);
    assert.equal(hdr.header, 'HdrS');
    assert.equal(hdr.version, 0x020c);
    assert.equal(hdr.root_flags, 1); // ROOT_RDONLY, as a bzImage's header.S sets it
    assert.equal(hdr.initrd_addr_max, 0x7fffffff);
    assert.equal(hdr.cmdline_size, 2047);
    assert.equal(hdr.type_of_loader, 0xff);
    assert.equal(hdr.loadflags, 0x01);
    assert.equal(hdr.setup_sects, 0);
    assert.equal(hdr.boot_flag, 0);
    assert.equal(hdr.cmd_line_ptr, 0x7fbdf000);
    assert.equal(Buffer.from(zp.subarray(0x1000)).toString('latin1'), `${CMDLINE}\0`);
    assert.equal(hdr.ramdisk_image, 0x7fbe0000);
    assert.equal(hdr.ramdisk_size, INITRD.length);
    assert.equal(hdr.setup_data, 0x100000n);
    assert.equal(bp.sentinel, 0);
    assert.equal(bp.e820_entries, 8);
    assert.equal(bp.efi_loader_signature, 0); // no EFI hand-off for an ELF (no XLF_EFI_KEXEC to ask)
  });

  it('has the purgatory jump to the physical e_entry with boot_params in rsi, digest over the rest', () => {
    const h = PurgatoryHeader.decode(plan.segments.find((s) => s.mem === plan.entry)!.buf);
    assert.equal(h.entry_rip, 0x1000000n);
    assert.equal(h.entry_rsi, 0x7fbde000n);
    assert.deepEqual(
      plan.purgatory.digest,
      segmentsDigest(plan.segments.filter((s) => s.mem !== plan.entry)),
    );
  });

  it('translates a virtual e_entry through its PT_LOAD', () => {
    assert.equal(physicalEntry(KVA + 0x1000040n, LOADS.map(phdr)), 0x1000040n);
    assert.equal(physicalEntry(0x1200010n, LOADS.map(phdr)), 0x1200010n);
    assert.throws(() => physicalEntry(0x5000000n, LOADS.map(phdr)), FormatError);
    const p = planElfX86_64Load({ ...base, image: buildVmlinux(LOADS, KVA + 0x1000040n) });
    assert.equal(p.kernel.entry64, 0x1000040n);
  });

  it('refuses what it cannot load: unaligned p_paddr, ET_DYN, a linked address that is not free RAM', () => {
    const odd = [{ ...LOADS[0]!, paddr: 0x1000100n }];
    assert.throws(
      () => planElfX86_64Load({ ...base, image: buildVmlinux(odd, 0x1000100n) }),
      /not page aligned/,
    );
    assert.throws(
      () => planElfX86_64Load({ ...base, image: buildVmlinux(LOADS, 0x1000000n, ET_DYN) }),
      /not ET_EXEC/,
    );
    const inCrash = [{ ...LOADS[0]!, paddr: 0x70000000n }];
    assert.throws(
      () => planElfX86_64Load({ ...base, image: buildVmlinux(inCrash, 0x70000000n) }),
      (e: unknown) =>
        e instanceof LayoutError &&
        /PT_LOAD 0x70000000-0x70002344 \(its linked physical address\)/.test(e.message),
    );
    assert.throws(
      () => planElfX86_64Load({ ...base, memMin: 0x2000000n }),
      (e: unknown) => e instanceof LayoutError,
    );
  });
});

function phdr(l: VmlinuxLoad) {
  return { p_paddr: l.paddr, p_vaddr: l.vaddr, p_memsz: BigInt(l.memsz) };
}

describe('loadKernel -c with a vmlinux (FakeSys)', () => {
  it('probes elf-x86_64, plans it and calls kexec_load; the default mode goes there too', () => {
    for (const syscall of ['load', 'auto'] as const) {
      const sys = q35Sys();
      sys.setFile('/boot/vmlinux', VMLINUX);
      sys.setFile('/boot/initrd.img', INITRD);
      const r = loadKernel(sys, {
        kernel: '/boot/vmlinux',
        initrd: '/boot/initrd.img',
        cmdline: CMDLINE,
        crash: false,
        syscall,
      });
      assert.equal(r.kernelType, 'elf-x86_64');
      assert.equal(r.syscall, 'kexec_load');
      assert.deepEqual(sys.callsOf('kexecFileLoad'), []);
      const img = sys.images.normal!;
      assert.deepEqual(
        img.segments!.filter((s) => s.mem >= 0x1000000n && s.mem < 0x2000000n).map((s) => [s.mem, s.memsz]),
        [
          [0x1000000n, 0x3000n],
          [0x1200000n, 0x3000n],
          [0x1203000n, 0x1000n],
        ],
      );
    }
  });
});

const FIXTURE = new URL('../../../../test/fixtures/real/vmlinuz-6.1.0-56-cloud-amd64', import.meta.url);

describe('planElfX86_64Load on the vmlinux inside Debian 6.1.0-56-cloud-amd64', () => {
  it('places its four PT_LOADs where readelf -l says (paddr, memsz rounded to pages), entry 16 MiB', () => {
    if (!existsSync(FIXTURE))
      assert.fail(`missing ${FIXTURE.pathname}: run \`bash scripts/fetch-fixtures.sh\``);
    const { vmlinux } = extractVmlinux(readFileSync(FIXTURE));
    const plan = planElfX86_64Load({ ...base, image: vmlinux });
    // readelf -l: LOAD paddr 0x1000000 memsz 0x1826634; 0x2a00000 0x61a000; 0x301a000 0x34000;
    // 0x304e000 0xdb2000; entry point 0x1000000 (CONFIG_PHYSICAL_START).
    assert.deepEqual(
      plan.layout.filter((l) => l.role === 'kernel').map((l) => [l.mem, l.memsz, l.bufsz]),
      [
        [0x1000000n, 0x1827000n, 0x1826634],
        [0x2a00000n, 0x61a000n, 0x61a000],
        [0x301a000n, 0x34000n, 0x34000],
        [0x304e000n, 0xdb2000n, 0xdb2000],
      ],
    );
    assert.equal(plan.kernel.entry64, 0x1000000n);
  });
});
