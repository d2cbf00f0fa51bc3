// Benchmark, not a test: the kexec_load path (-c) with a large initrd, where the purgatory's SHA-256 over
// every segment dominates the hand-off. In one lab guest, four kexec boots in a row:
//   kexec-ts -c, kexec-ts -c -i, Debian's kexec-tools (2.0.25) -c, kexec-tools -c -i
// each with the same kernel, command line and initrd (the lab rootfs + /boot + 256 MiB of random bytes
// as a file in a third cpio archive, so every kernel still boots to READY and can kexec again).
// Host clock on the serial console: "kexec_core: Starting new kernel" -> the next "Linux version" line
// (segment copy, purgatory, kernel decompression), "Starting new kernel" -> READY, and `-e` sent ->
// READY (exec to new userspace, including the exec command's own start-up: node for kexec-ts).
// Two control rows run kexec-tools after a kexec-ts load and unload with the same flags: under TCG the
// next kernel's initramfs unpack is slower after Node ran in the old one, whoever loads (QEMU drops the
// translated code of every page the new kernel writes; docs/kexec-load.md). The `TB inval` column is
// QEMU's count of those drops from `-e` to READY, read on its monitor.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LabError } from '../src/errors.js';
import type { GuestConsole } from '../src/lab/console.js';
import { startGuest } from '../src/lab/guest.js';
import { hmp, monitorArgs } from '../src/lab/monitor.js';

const BIG_MIB = 256;
const CHAIN = [
  'cd /',
  `{ [ -f /bench/big.bin ] || { mkdir -p /bench && head -c ${BIG_MIB * 1024 * 1024} /dev/urandom > /bench/big.bin; }; }`,
  '{ cat /boot/initrd.img; find boot | cpio -o -H newc 2>/dev/null; find bench | cpio -o -H newc 2>/dev/null; } > /tmp/chain.img',
].join(' && ');

export interface BenchCase {
  name: string;
  /** Guest shell: load command (kernel, initrd and command line are appended). */
  load: string;
  exec: string;
  /** Guest shell run before the load (kernel, initrd and `--append=x` are appended). */
  before?: string;
}

export const CASES: BenchCase[] = [
  { name: 'kexec-ts -c', load: 'kexec-ts -c -l', exec: 'kexec-ts -e' },
  { name: 'kexec-ts -c -i', load: 'kexec-ts -c -i -l', exec: 'kexec-ts -e' },
  { name: 'kexec-tools -c', load: '/sbin/kexec -c -l', exec: '/sbin/kexec -e' },
  { name: 'kexec-tools -c -i', load: '/sbin/kexec -c -i -l', exec: '/sbin/kexec -e' },
  {
    name: 'kexec-tools -c, after node',
    before: 'kexec-ts -c -l',
    load: 'kexec-ts -u && /sbin/kexec -c -l',
    exec: '/sbin/kexec -e',
  },
  {
    name: 'kexec-tools -c -i, after node',
    before: 'kexec-ts -c -i -l',
    load: 'kexec-ts -u && /sbin/kexec -c -i -l',
    exec: '/sbin/kexec -e',
  },
];

export interface BenchRow {
  name: string;
  /** In-guest seconds of the load command (/proc/uptime around it). */
  load: number;
  /** "Starting new kernel" to the new kernel's first line. */
  handoff: number;
  /** "Starting new kernel" to READY: without the exec command's own start-up (node for kexec-ts). */
  startToReady: number;
  /** `-e` sent to the new kernel's READY line. */
  toUserspace: number;
  /** QEMU's translated blocks invalidated from `-e` to READY (monitor `info jit`). */
  tbInvalidated: number;
}

export interface Ratios {
  handoff: number;
  startToReady: number;
  toUserspace: number;
}

export interface BenchResult {
  kernelRelease: string;
  initrdBytes: number;
  rows: BenchRow[];
  /** kexec-ts / kexec-tools, same flags. */
  ratios: { checks: Ratios; noChecks: Ratios };
  /** kexec-ts / kexec-tools after a kexec-ts load and unload (the same TCG state), same flags. */
  sameState: { checks: Ratios; noChecks: Ratios };
}

async function runCase(c: GuestConsole, mon: string, k: BenchCase): Promise<BenchRow> {
  await c.check(CHAIN, 600_000);
  if (k.before) await c.check(`${k.before} /boot/vmlinuz --initrd=/tmp/chain.img --append=x`, 600_000);
  const cmd = `${k.load} /boot/vmlinuz --initrd=/tmp/chain.img --append="$(cat /proc/cmdline)"`;
  const out = await c.check(
    `read a _ </proc/uptime; ${cmd} >/dev/null 2>&1 || echo FAIL; read b _ </proc/uptime; echo "T $a $b"`,
    600_000,
  );
  const m = /T ([\d.]+) ([\d.]+)/.exec(out);
  if (!m || out.includes('FAIL')) throw new Error(`${k.name}: load failed in the guest:\n${out}`);
  const inval0 = await tbInvalidations(mon);
  const sent = c.now();
  c.send(`${k.exec}\n`);
  const start = await c.expect('kexec_core: Starting new kernel', 120_000);
  const boot = await c.waitReady(900_000);
  if (boot.kernelStart === undefined || boot.ready === undefined)
    throw new Error(`${k.name}: boot not observed`);
  const inval1 = await tbInvalidations(mon);
  return {
    name: k.name,
    load: Number(m[2]) - Number(m[1]),
    handoff: (boot.kernelStart - start.t) / 1000,
    startToReady: (boot.ready - start.t) / 1000,
    toUserspace: (boot.ready - sent) / 1000,
    tbInvalidated: inval1 - inval0,
  };
}

export async function benchPurgatory(log: (s: string) => void = () => {}): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kexec-ts-bench-'));
  const mon = join(dir, 'monitor.sock');
  const guest = await startGuest({ memoryMiB: 4096, log, extraArgs: monitorArgs(mon) });
  const c = guest.console;
  try {
    await c.check(CHAIN, 600_000);
    const initrdBytes = Number(await c.check('stat -c %s /tmp/chain.img'));
    const rows: BenchRow[] = [];
    for (const k of CASES) {
      const row = await runCase(c, mon, k);
      log(
        `${row.name}: load ${row.load.toFixed(1)} s, hand-off ${row.handoff.toFixed(1)} s, start->READY ${row.startToReady.toFixed(1)} s, userspace ${row.toUserspace.toFixed(1)} s, TB inval ${row.tbInvalidated}`,
      );
      rows.push(row);
    }
    const by = (n: string) => rows.find((r) => r.name === n)!;
    const ratio = (a: BenchRow, b: BenchRow) => ({
      handoff: a.handoff / b.handoff,
      startToReady: a.startToReady / b.startToReady,
      toUserspace: a.toUserspace / b.toUserspace,
    });
    const result: BenchResult = {
      kernelRelease: guest.build.kernelRelease,
      initrdBytes,
      rows,
      ratios: {
        checks: ratio(by('kexec-ts -c'), by('kexec-tools -c')),
        noChecks: ratio(by('kexec-ts -c -i'), by('kexec-tools -c -i')),
      },
      sameState: {
        checks: ratio(by('kexec-ts -c'), by('kexec-tools -c, after node')),
        noChecks: ratio(by('kexec-ts -c -i'), by('kexec-tools -c -i, after node')),
      },
    };
    process.stdout.write(formatPurgatoryBench(result));
    return result;
  } finally {
    await guest.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatPurgatoryBench(r: BenchResult): string {
  const f = (n: number, w: number) => n.toFixed(1).padStart(w);
  const ratio = (x: Ratios) =>
    `hand-off ${x.handoff.toFixed(2)}, start->READY ${x.startToReady.toFixed(2)}, -e->READY ${x.toUserspace.toFixed(2)}`;
  const lines = [
    `kexec_load (-c) hand-off, ${r.kernelRelease}, initrd ${(r.initrdBytes / 2 ** 20).toFixed(0)} MiB (QEMU TCG; seconds)`,
    `${'case'.padEnd(32)}${'load'.padStart(8)}${'hand-off'.padStart(10)}${'start->READY'.padStart(14)}${'-e->READY'.padStart(11)}${'TB inval'.padStart(10)}`,
    ...r.rows.map(
      (x) =>
        `${x.name.padEnd(32)}${f(x.load, 8)}${f(x.handoff, 10)}${f(x.startToReady, 14)}${f(x.toUserspace, 11)}${String(x.tbInvalidated).padStart(10)}`,
    ),
    `kexec-ts / kexec-tools, -c:    ${ratio(r.ratios.checks)}`,
    `kexec-ts / kexec-tools, -c -i: ${ratio(r.ratios.noChecks)}`,
    `kexec-ts / kexec-tools after node, -c:    ${ratio(r.sameState.checks)}`,
    `kexec-ts / kexec-tools after node, -c -i: ${ratio(r.sameState.noChecks)}`,
  ];
  return `${lines.join('\n')}\n`;
}

// `node dist/bench/purgatory.js` runs it alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchPurgatory((s) => process.stderr.write(`bench: ${s}\n`));
}

/** `TB invalidate count` from `info jit`: translated blocks dropped because their guest page was written. */
async function tbInvalidations(path: string): Promise<number> {
  const out = await hmp(path, 'info jit');
  const m = /TB invalidate count\s+(\d+)/.exec(out);
  if (!m) throw new LabError(`info jit: no "TB invalidate count" in:\n${out}`, { hint: 'QEMU without TCG?' });
  return Number(m[1]);
}
