// kexec_load (-c) on real kernels: our bzImage64 and elf-x86_64 loaders and purgatory, in QEMU guests, one
// boot chain each.
//   SeaBIOS, 6.1:  (a virtio disk, so the BIOS has an EDD drive) A -c -d -> B (cmdline, initrd, MemTotal,
//                  /sys/firmware/edd as in A) -> default mode, kexec_file_load refuses the 2040-byte line
//                  (EINVAL), fallback -> C -> -c -i -> D -> the vmlinux extracted from /boot/vmlinuz,
//                  -c (elf-x86_64) -> E -> a corrupted segment: the purgatory prints its mismatch line
//                  and halts
//   OVMF, 6.1:     (a VGA device: efifb) A -c -d -> B (EFI runtime: runtime-map, efivars through
//                  GetVariable; the same efifb mode) -> -c -i -> C
//   SeaBIOS, 6.12: A -c -d -> B -> fallback on the long line -> C
// Fails, never skips, when the lab cannot run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GuestConsole } from '../../src/lab/console.js';
import { type Guest, prepareLab, startGuest } from '../../src/lab/guest.js';
import { PURGATORY_MISMATCH_LINE } from '../../src/purgatory/x86_64-header.js';
import {
  assertInitrdIntact,
  BOOT_TIMEOUT,
  EDD_KO,
  eddCpio,
  eddSummary,
  efivarsSummary,
  fbSummary,
  initrdWithEfivarfs,
  LOAD_TIMEOUT,
  makeChain,
  mbrDisk,
  memTotalKiB,
  paddedCmdline,
  runtimeMap,
} from './kexec-load-helpers.js';

const tag = randomBytes(4).toString('hex');
const log = (l: string) => process.stderr.write(`lab: ${l}\n`);
/** MemTotal may differ by the pages the new boot keeps reserved (setup_data, EFI map); never by more. */
const MEM_SLACK_KIB = 4096;
/** Longer than kexec_file_load takes (it keeps 30 bytes for elfcorehdr=), within cmdline_size (2047). */
const LONG = 2040;
const cmdline = (boot: string) => `console=ttyS0 lab.boot=${boot} lab.tag=${tag} lab.q="two words"`;
const load = (flags: string, line: string) =>
  `kexec-ts ${flags} -l /boot/vmlinuz --initrd=/tmp/chain.img --append='${line}'`;

/**
 * The corrupted case's fault comes from the test: kexec-ts's own main() run with corruptingSys (compiled
 * from test/helpers/corrupt-sys.ts, shipped into the guest as it is) around the real Sys, so the segment
 * holding FILE's bytes is changed between the digest and kexec_load. Usage: node /tmp/corrupt.mjs FILE ARGS...
 */
const CORRUPT_HELPER = readFileSync(new URL('../helpers/corrupt-sys.js', import.meta.url));
const CORRUPT_RUNNER = `import { readFileSync } from 'node:fs';
import { main } from '/opt/kexec-ts/node_modules/kexec-ts/dist/src/cli/main.js';
import { realSys } from '/opt/kexec-ts/node_modules/kexec-ts/dist/src/sys/index.js';
import { corruptingSys } from '/tmp/corrupt-sys.mjs';
const [file, ...argv] = process.argv.slice(2);
const sys = corruptingSys(realSys(), readFileSync(file), (i) => console.error('corrupted segment ' + i));
process.exitCode = await main(argv, { sys });
`;
const ship = (bytes: Uint8Array | string, to: string) =>
  `printf %s '${Buffer.from(bytes).toString('base64')}' | base64 -d > ${to}`;

/** Sends -e and waits for the next READY; returns seconds from -e to READY. */
async function execAndWait(c: GuestConsole, boot: number): Promise<number> {
  const sent = c.now();
  c.send('kexec-ts -e\n');
  const b = await c.waitReady(BOOT_TIMEOUT);
  assert.equal(b.boot, boot);
  const s = ((b.ready ?? sent) - sent) / 1000;
  log(`boot ${boot}: READY ${s.toFixed(1)} s after -e`);
  return s;
}

async function checkBoot(c: GuestConsole, g: Guest, line: string, memA: number): Promise<void> {
  assert.equal(await c.check('cat /proc/cmdline'), line);
  await assertInitrdIntact(c, g.build);
  const mem = await memTotalKiB(c);
  log(`MemTotal ${mem} kB (first boot ${memA} kB, ${mem - memA} kB)`);
  assert.ok(Math.abs(mem - memA) <= MEM_SLACK_KIB, `MemTotal ${mem} kB vs ${memA} kB`);
}

function guestHooks(
  opts: Parameters<typeof startGuest>[0] | (() => Promise<Parameters<typeof startGuest>[0]>),
) {
  const s = { guest: undefined as unknown as Guest, c: undefined as unknown as GuestConsole, memA: 0 };
  before(async () => {
    const o = typeof opts === 'function' ? await opts() : opts;
    s.guest = await startGuest({ memoryMiB: 2048, log, ...o });
    s.c = s.guest.console;
    s.memA = await memTotalKiB(s.c);
  });
  after(async () => {
    if (s.c) process.stderr.write(`--- last console lines ---\n${s.c.tail(40)}\n`);
    await s.guest?.close();
  });
  return s;
}

/** edd.ko's directory in the guest, carried along by the chain image. */
const EDD_DIR = `lib/modules/*/${EDD_KO.replace(/\/[^/]*$/, '')}`;
/** The MBR signature of the lab disk: the BIOS reads it (int 0x13) for the first kernel's EDD data. */
const MBR_SIG = 0x6b747331;

describe('kexec_load (-c) under SeaBIOS, Debian 6.1', { timeout: 3_600_000 }, () => {
  let eddA = '';
  const s = guestHooks(async () => {
    const { setup, build } = await prepareLab({ log });
    const disk = join(build.dir, 'edd-disk.img');
    await mbrDisk(disk, MBR_SIG);
    return { append: 'lab.boot=A', drives: [disk], extraInitrd: [await eddCpio(setup, build)] };
  });
  const checkEdd = async () => assert.equal(await eddSummary(s.c), eddA);

  it('A: -c -d -l prints the segment table and loads with kexec_load', async () => {
    eddA = await eddSummary(s.c);
    log(`first boot EDD:\n${eddA}`);
    assert.match(eddA, new RegExp(`^int13_dev80 0x[0-9a-f]+ 0x${MBR_SIG.toString(16)} `));
    await s.c.check(makeChain(EDD_DIR), LOAD_TIMEOUT);
    const r = await s.c.run(load('-c -d', cmdline('B')), LOAD_TIMEOUT);
    assert.equal(r.status, 0, r.output);
    for (const role of ['kernel', 'initrd', 'boot_params', 'purgatory', 'setup_data'])
      assert.match(r.output, new RegExp(`kexec-ts: ${role} +0x[0-9a-f]+-0x[0-9a-f]+ memsz`));
    assert.match(r.output, /entry 0x[0-9a-f]+ \(purgatory\), kernel 64-bit entry 0x[0-9a-f]+200/);
    assert.match(r.output, /efi: none \(no \/sys\/firmware\/efi/);
    assert.match(r.output, /edd: \d+ drives, 1 MBR signatures/);
    assert.match(r.output, /loaded \/boot\/vmlinuz \(bzImage64\) with kexec_load/);
    assert.doesNotMatch(r.output, /kexec_file_load\(/);
    assert.equal(await s.c.check('cat /sys/kernel/kexec_loaded'), '1');
    await execAndWait(s.c, 2);
  });

  it('B: exact command line, intact initrd, same MemTotal, same EDD drives', async () => {
    await checkBoot(s.c, s.guest, cmdline('B'), s.memA);
    await checkEdd();
  });

  it('B: the default mode falls back to kexec_load when kexec_file_load refuses a 2040-byte line', async () => {
    const line = paddedCmdline(cmdline('C'), LONG);
    await s.c.check(makeChain(EDD_DIR), LOAD_TIMEOUT);
    const r = await s.c.run(load('-d', line), LOAD_TIMEOUT);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /kexec_file_load\(.*\) = EINVAL .*falling back to kexec_load/);
    assert.match(r.output, /loaded \/boot\/vmlinuz \(bzImage64\) with kexec_load/);
    await execAndWait(s.c, 3);
    await checkBoot(s.c, s.guest, line, s.memA);
    await checkEdd();
  });

  it('C: -c -i (no purgatory check) boots too', async () => {
    await s.c.check(makeChain(EDD_DIR), LOAD_TIMEOUT);
    await s.c.check(load('-c -i', cmdline('D')), LOAD_TIMEOUT);
    await execAndWait(s.c, 4);
    await checkBoot(s.c, s.guest, cmdline('D'), s.memA);
    await checkEdd(); // also loads edd.ko, so the next load finds /sys/firmware/edd
  });

  it('D: the vmlinux inside /boot/vmlinuz boots with -c (elf-x86_64, PT_LOADs at 16 MiB up)', async () => {
    await s.c.check(makeChain(EDD_DIR), LOAD_TIMEOUT);
    await s.c.check('kexec-ts inspect --extract-vmlinux /boot/vmlinuz -o /tmp/vmlinux', LOAD_TIMEOUT);
    const r = await s.c.run(
      `kexec-ts -c -d -l /tmp/vmlinux --initrd=/tmp/chain.img --append='${cmdline('E')}'; rm /tmp/vmlinux`,
      LOAD_TIMEOUT,
    );
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /loaded \/tmp\/vmlinux \(elf-x86_64\) with kexec_load/);
    // The linked physical address (CONFIG_PHYSICAL_START) and the entry there (phys_startup_64).
    assert.match(r.output, /kernel 64-bit entry 0x1000000,/);
    assert.match(r.output, /kexec-ts: kernel +0x1000000-0x[0-9a-f]+ memsz/);
    assert.match(r.output, /edd: 1 drives, 1 MBR signatures/);
    await execAndWait(s.c, 5);
    await checkBoot(s.c, s.guest, cmdline('E'), s.memA);
    await checkEdd();
  });

  it('E: a segment changed after hashing: the purgatory prints its mismatch line and halts', async () => {
    await s.c.check(makeChain(), LOAD_TIMEOUT);
    await s.c.check(ship(CORRUPT_HELPER, '/tmp/corrupt-sys.mjs'));
    await s.c.check(ship(CORRUPT_RUNNER, '/tmp/corrupt.mjs'));
    const faulty = load('-c', cmdline('F')).replace(/^kexec-ts /, 'node /tmp/corrupt.mjs /tmp/chain.img ');
    assert.match(await s.c.check(faulty, LOAD_TIMEOUT), /corrupted segment \d+/);
    const boots = s.c.boots.length; // 5 after A-D; 1 when this case runs alone
    s.c.send('kexec-ts -e\n');
    await s.c.expect('kexec_core: Starting new kernel', 120_000);
    await s.c.expect(PURGATORY_MISMATCH_LINE, BOOT_TIMEOUT);
    await new Promise((r) => setTimeout(r, 10_000));
    assert.equal(s.c.boots.length, boots, 'no kernel started after the mismatch');
  });
});

describe('kexec_load (-c) under OVMF, Debian 6.1: EFI runtime services survive', {
  timeout: 3_600_000,
}, () => {
  let efivarsA = '';
  let mapA = '';
  let fbA = '';
  const s = guestHooks(async () => {
    const { setup, build } = await prepareLab({ log });
    return {
      ovmf: true,
      append: 'lab.boot=A',
      // A VGA device gives OVMF a GOP, hence efifb on /dev/fb0 ("EFI VGA").
      extraArgs: ['-initrd', await initrdWithEfivarfs(setup, build), '-device', 'VGA'],
    };
  });

  it('A: -c -d -l hands EFI over (systab, runtime regions) and the framebuffer', async () => {
    efivarsA = await efivarsSummary(s.c);
    mapA = await runtimeMap(s.c);
    fbA = await fbSummary(s.c);
    log(`first boot framebuffer:\n${fbA}`);
    assert.match(fbA, /^EFI VGA\n\d+,\d+\nefifb: framebuffer at 0x[0-9a-f]+/);
    log(`first boot: ${efivarsA.split(' ')[0]} EFI variables, runtime map:\n${mapA}`);
    assert.ok(Number(efivarsA.split(' ')[0]) > 0);
    await s.c.check(makeChain('lib/modules/*/kernel/fs'), LOAD_TIMEOUT);
    const r = await s.c.run(load('-c -d', cmdline('B')), LOAD_TIMEOUT);
    assert.equal(r.status, 0, r.output);
    const n = mapA.split('\n').length;
    assert.match(r.output, new RegExp(`efi: systab 0x[0-9a-f]+, ${n} runtime regions, memmap 0x[0-9a-f]+`));
    assert.match(
      r.output,
      /screen_info: \/dev\/fb0 "EFI VGA" \d+x\d+x\d+ at 0x[0-9a-f]+ \(video type 0x70\)/,
    );
    await execAndWait(s.c, 2);
  });

  it('B: command line, initrd, MemTotal; /sys/firmware/efi with the same runtime map; efivars readable; same efifb', async () => {
    await checkBoot(s.c, s.guest, cmdline('B'), s.memA);
    assert.equal(await runtimeMap(s.c), mapA);
    assert.equal(await efivarsSummary(s.c), efivarsA);
    assert.equal(await fbSummary(s.c), fbA);
  });

  it('B: -c -i reaches C with EFI runtime still there', async () => {
    await s.c.check(makeChain('lib/modules/*/kernel/fs'), LOAD_TIMEOUT);
    await s.c.check(load('-c -i', cmdline('C')), LOAD_TIMEOUT);
    await execAndWait(s.c, 3);
    await checkBoot(s.c, s.guest, cmdline('C'), s.memA);
    assert.equal(await runtimeMap(s.c), mapA);
    assert.equal(await efivarsSummary(s.c), efivarsA);
    assert.equal(await fbSummary(s.c), fbA);
  });
});

describe('kexec_load (-c) under SeaBIOS, Debian 6.12', { timeout: 3_600_000 }, () => {
  const s = guestHooks({ kernelPackage: 'linux-image-6.12-cloud-amd64', append: 'lab.boot=A' });

  it('A: the guest runs 6.12; -c -d -l, -e', async () => {
    assert.match(await s.c.check('uname -r'), /^6\.12\./);
    await s.c.check(makeChain(), LOAD_TIMEOUT);
    const r = await s.c.run(load('-c -d', cmdline('B')), LOAD_TIMEOUT);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /with kexec_load/);
    await execAndWait(s.c, 2);
  });

  it('B: exact command line, intact initrd, same MemTotal', async () => {
    await checkBoot(s.c, s.guest, cmdline('B'), s.memA);
  });

  it('B: the default mode falls back to kexec_load on the 2040-byte line here too', async () => {
    const line = paddedCmdline(cmdline('C'), LONG);
    await s.c.check(makeChain(), LOAD_TIMEOUT);
    const r = await s.c.run(load('-d', line), LOAD_TIMEOUT);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /= EINVAL .*falling back to kexec_load/);
    await execAndWait(s.c, 3);
    await checkBoot(s.c, s.guest, line, s.memA);
  });
});
