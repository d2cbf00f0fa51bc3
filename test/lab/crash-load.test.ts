// kdump through kexec_load (-c -p): our ELF core headers, elfcorehdr= and capture e820, on real kernels.
// One QEMU process per kernel (Debian 6.1, then 6.12): boot with crashkernel=256M, `kexec-ts -c -d -p`
// loads the capture kernel, a marker goes to /dev/kmsg, sysrq-c; the capture kernel must boot, see
// /proc/vmcore and copy it to a virtio disk (lab.dump=). On the host the dump's ELF headers are compared
// with what the crashed kernel itself says (VMCOREINFO's SYMBOL(_stext) and phys_base, its /proc/iomem),
// and `kexec-ts vmcore dmesg` must show the marker and equal Debian's vmcore-dmesg byte for byte.
// KEXEC_TS_LAB_TRANSCRIPT=<prefix> keeps each guest's console in <prefix>.<tag>.txt.
// Fails, never skips, when the lab cannot run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { kexecTsPackageDir as packageRoot } from '../../src/initramfs/index.js';
import { openFileReader } from '../../src/kdump/file-reader.js';
import { openElfVmcore } from '../../src/kdump/vmcore-elf.js';
import type { GuestConsole } from '../../src/lab/console.js';
import { type Guest, startGuest } from '../../src/lab/guest.js';
import { DUMP_MARK } from '../../src/lab/guest-scripts.js';
import { MARK } from '../../src/lab/markers.js';
import { labDir } from '../../src/lab/paths.js';

const run = promisify(execFile);
const log = (l: string) => process.stderr.write(`lab: ${l}\n`);
const BOOT_TIMEOUT = 600_000;
const LOAD_TIMEOUT = 300_000;
const DUMP_TIMEOUT = 600_000;
const MEMORY_MIB = 1536;
const DISK_BYTES = 2 ** 31;
const START_KERNEL_MAP = 0xffff_ffff_8000_0000n;
const MiB = 0x10_0000n;

async function cli(args: string[]): Promise<string> {
  const bin = join(await packageRoot(), 'dist/src/bin/kexec-ts.js');
  return (await run(process.execPath, [bin, ...args], { maxBuffer: 256 << 20 })).stdout;
}

interface Range {
  start: bigint;
  end: bigint;
}
/** Top-level /proc/iomem lines named `name` (half-open), independent of src/kexec/crash. */
function iomemRanges(text: string, name: string, nested = false): Range[] {
  return [...text.matchAll(/^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$/gm)]
    .filter((m) => m[4] === name && (nested || m[1] === ''))
    .map((m) => ({ start: BigInt(`0x${m[2]}`), end: BigInt(`0x${m[3]}`) + 1n }));
}
const hex = (n: bigint) => `0x${n.toString(16)}`;

function crashLoadSuite(kernelPackage: string | undefined) {
  const name = kernelPackage ?? 'default (6.1)';
  describe(`kexec-ts -c -p on ${name}: sysrq crash into the capture kernel`, { timeout: 2_400_000 }, () => {
    const tag = randomBytes(4).toString('hex');
    const marker = `kexec-ts-crash-load-marker-${tag}`;
    const dir = join(labDir(), `crash-load-${tag}`);
    const disk = join(dir, 'disk.img');
    const vmcore = join(dir, 'vmcore.elf');
    let guest: Guest | undefined;
    let c: GuestConsole;
    let iomem = '';
    let elfcorehdrK = 0n;
    let dumpBytes = 0;
    let kexecToolsRoot = '';

    before(async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(disk, '');
      await truncate(disk, DISK_BYTES);
      guest = await startGuest({
        memoryMiB: MEMORY_MIB,
        append: 'crashkernel=256M',
        drives: [disk],
        log,
        ...(kernelPackage ? { kernelPackage } : {}),
      });
      c = guest.console;
      kexecToolsRoot = guest.setup.kexecToolsRoot;
    });
    after(async () => {
      if (c) process.stderr.write(`--- last console lines ---\n${c.tail(40)}\n`);
      const keep = process.env['KEXEC_TS_LAB_TRANSCRIPT'];
      if (c && keep) await writeFile(`${keep}.${tag}.txt`, c.transcript());
      await guest?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('-c -d -p loads with kexec_load(KEXEC_ON_CRASH): segments in the reservation, elfcorehdr at its first page', async () => {
      if (kernelPackage) assert.match(await c.check('uname -r'), /^6\.12\./);
      iomem = await c.check('cat /proc/iomem');
      // "%pa %x": the note address as 0x + 16 digits (kernel/ksysfs.c); -d must print the same address.
      const vmcoreinfo = /^0x([0-9a-f]{16}) ([0-9a-f]+)$/.exec(await c.check('cat /sys/kernel/vmcoreinfo'));
      assert.ok(vmcoreinfo, '/sys/kernel/vmcoreinfo format');
      const [crash] = iomemRanges(iomem, 'Crash kernel', true);
      assert.ok(crash, 'a Crash kernel range');
      const r = await c.run(
        `kexec-ts -c -d -p /boot/vmlinuz --initrd=/boot/capture.img --reuse-cmdline --append='irqpoll nr_cpus=1 reset_devices lab.dump=/dev/vda'`,
        LOAD_TIMEOUT,
      );
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /loaded \/boot\/vmlinuz \(bzImage64\) with kexec_load/);
      const m = /kdump: crash region (0x[0-9a-f]+)-(0x[0-9a-f]+), elfcorehdr=(\d+)K/.exec(r.output);
      assert.ok(m, r.output);
      assert.equal(BigInt(m[1]!), crash.start);
      assert.equal(BigInt(m[2]!) + 1n, crash.end);
      elfcorehdrK = BigInt(m[3]!);
      assert.equal(
        elfcorehdrK * 1024n,
        crash.start,
        'the headers sit at the lowest page, as the kernel puts them',
      );
      // Every segment line of -d lies inside the reservation.
      const segs = [...r.output.matchAll(/^kexec-ts: (\w+) +(0x[0-9a-f]+)-(0x[0-9a-f]+) memsz/gm)];
      assert.deepEqual(segs.map((s) => s[1]).sort(), [
        'boot_params',
        'elfcorehdr',
        'initrd',
        'kernel',
        'purgatory',
        'setup_data',
      ]);
      for (const s of segs) assert.ok(BigInt(s[2]!) >= crash.start && BigInt(s[3]!) < crash.end, s[0]);
      assert.match(
        r.output,
        new RegExp(
          `kdump: 2 cpu notes, vmcoreinfo 0x${BigInt(`0x${vmcoreinfo[1]}`).toString(16)}, \\d+ program headers`,
        ),
      );
      assert.match(
        r.output,
        /kdump: page_offset 0xff[0-9a-f]+ \(kcore-ram\), text 0xffffffff[0-9a-f]+ .*\(kallsyms-_stext\)/,
      );
      assert.equal(await c.check('cat /sys/kernel/kexec_crash_loaded'), '1');
      assert.equal((await c.run('kexec-ts -S')).status, 1);
      await c.check(`printf '<6>%s\\n' ${marker} > /dev/kmsg`);
    });

    it('sysrq-c boots the capture kernel: our elfcorehdr= and e820, /proc/vmcore copied to the disk', async () => {
      c.send('echo c > /proc/sysrq-trigger\n');
      await c.expect(MARK.capture, BOOT_TIMEOUT);
      const vm = await c.expect(new RegExp(`${MARK.vmcore} (present|absent)`), 60_000);
      assert.equal(vm.match[1], 'present');
      const d = await c.expect(new RegExp(`${DUMP_MARK} status=(\\d+) bytes=(\\d+)\\n`), DUMP_TIMEOUT);
      assert.equal(d.match[1], '0', 'dd status');
      dumpBytes = Number(d.match[2]);
      await c.waitReady(BOOT_TIMEOUT);
      // Checked once the dump is safe on the disk. The capture kernel's boot: every line after the crash (searched back, so no race with the reader).
      const all = c.lines.map((l) => l.text);
      let crashAt = all.length - 1;
      while (crashAt > 0 && !all[crashAt]!.includes('sysrq: Trigger a crash')) crashAt--;
      assert.ok(crashAt > 0, 'sysrq: Trigger a crash in the transcript');
      const boot = all.slice(crashAt);
      // What the capture kernel saw in boot_params: the e820 we built (usable = low RAM + reservation
      // minus the headers' page).
      const usable = boot
        .map((l) => /BIOS-e820: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] usable/.exec(l))
        .filter((m) => m !== null)
        .map((m) => [BigInt(m[1]!), BigInt(m[2]!) + 1n]);
      const [crash] = iomemRanges(iomem, 'Crash kernel', true);
      const low = iomemRanges(iomem, 'System RAM').filter((r) => r.start < MiB);
      const e820Lines = boot.filter((l) => l.includes('e820')).join('\n');
      assert.deepEqual(
        usable,
        [...low.map((r) => [r.start, r.end < MiB ? r.end : MiB]), [crash!.start + 0x1000n, crash!.end]],
        e820Lines,
      );
      assert.ok(
        boot.some((l) => l.includes(`elfcorehdr=${elfcorehdrK}K`)),
        'command line in the boot log',
      );
      assert.match(
        await c.check('cat /proc/cmdline'),
        new RegExp(`lab\\.dump=/dev/vda elfcorehdr=${elfcorehdrK}K$`),
      );
      await guest?.close();
      guest = undefined;
    });

    it('the dump on the host: PT_LOADs as the crashed kernel describes itself, marker in vmcore dmesg = vmcore-dmesg', async () => {
      await cli(['vmcore', 'save', disk, vmcore]);
      await rm(disk, { force: true });
      const reader = openFileReader(vmcore);
      const vm = openElfVmcore(reader);
      assert.equal(reader.size, dumpBytes);
      assert.equal(vm.cpus.length, 2, 'one NT_PRSTATUS per CPU');
      const info = vm.vmcoreinfo!;
      assert.ok(info.osrelease);
      const stext = info.symbols['_stext']!;
      const physBase = info.numbers['phys_base']!;
      const [text, ...ram] = vm.loads;
      assert.equal(text!.vaddr, stext, 'text PT_LOAD at SYMBOL(_stext)');
      assert.equal(
        text!.paddr,
        BigInt.asUintN(64, stext - START_KERNEL_MAP + physBase),
        '__pa_symbol(_stext)',
      );
      assert.equal(text!.paddr, iomemRanges(iomem, 'Kernel code', true)[0]!.start);
      // RAM: System RAM minus the reservation and the first MiB, each at one direct-map offset.
      const [crash] = iomemRanges(iomem, 'Crash kernel', true);
      const expected: Range[] = [];
      for (const r of iomemRanges(iomem, 'System RAM')) {
        const start = r.start < MiB ? MiB : r.start;
        if (start >= r.end) continue;
        if (crash!.start > start && crash!.end < r.end) {
          expected.push({ start, end: crash!.start }, { start: crash!.end, end: r.end });
        } else expected.push({ start, end: r.end });
      }
      assert.deepEqual(
        ram.map((l) => [hex(l.paddr), hex(l.paddr + l.memsz)]),
        expected.map((r) => [hex(r.start), hex(r.end)]),
      );
      const offsets = new Set(ram.map((l) => l.vaddr - l.paddr));
      assert.equal(offsets.size, 1);
      log(`${name}: ${vm.loads.length} PT_LOADs, page_offset ${hex([...offsets][0]!)}, _stext ${hex(stext)}`);
      const ours = await cli(['vmcore', 'dmesg', vmcore]);
      assert.match(ours, new RegExp(`\\] ${marker}\\n`));
      assert.match(ours, /sysrq: Trigger a crash/);
      const oracle = join(kexecToolsRoot, 'sbin/vmcore-dmesg');
      assert.ok(existsSync(oracle), oracle);
      assert.equal(ours, (await run(oracle, [vmcore], { maxBuffer: 256 << 20 })).stdout);
    });
  });
}

crashLoadSuite(undefined);
crashLoadSuite('linux-image-6.12-cloud-amd64');
