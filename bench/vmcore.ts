// `vmcore save` and `vmcore dmesg` against Debian's makedumpfile 1.7.2 and vmcore-dmesg on the host,
// on the lab's real dump (<lab>/kdump/vmcore.elf, from test/lab/kdump.test.ts) and on a larger synthetic
// one: the real dump plus an appended PT_LOAD of mostly zero memory with random pages, so the kernel
// data makedumpfile needs stays valid. Time, output size and peak RSS come from /usr/bin/time -v.
// Debian's makedumpfile ignores -z and -p (zstd and snappy not built in), so --zstd and -p are compared
// with its fastest, -l (LZO). `dmesg (kdump lzo)` reads our LZO file, against makedumpfile --dump-dmesg.
// makedumpfile leaves the appended PT_LOAD out (its pfns lie beyond the kernel's own memory map), so on
// the synthetic input the two tools do not dump the same pages: compare times there, not sizes.
// `vmcore save` fsyncs its file before the rename and makedumpfile does not, so the reference's wall time
// is also given with a `sync FILE` after it (`s +sync`); CPU seconds need no such correction.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labDir } from '../src/lab/paths.js';

const run = promisify(execFile);

export interface VmcoreBenchRow {
  input: string;
  task: string;
  ours: Timed;
  theirs: Timed & { tool: string };
}

/** Wall and CPU (user + system) seconds: on a shared 2-core host CPU time is the steadier number. */
interface Timed {
  s: number;
  cpuS: number;
  bytes: number;
  rssMiB: number;
  /** Wall seconds of `sync FILE` after the run: makedumpfile does not fsync, `vmcore save` does. */
  syncS?: number;
}

async function timed(argv: string[], out?: string, sync = false): Promise<Timed> {
  if (out) await rm(out, { force: true });
  const r = await run('/usr/bin/time', ['-v', ...argv], { maxBuffer: 1 << 28 }).catch((e) => e);
  const err = String(r.stderr ?? '');
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(err);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  const cpu = ['User', 'System'].map((k) =>
    Number(new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(err)?.[1]),
  );
  if (!wall || !rss || cpu.some(Number.isNaN))
    throw new Error(`${argv.join(' ')} failed: ${err.slice(-500)}`);
  const s = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const bytes = out ? statSync(out).size : Buffer.byteLength(String(r.stdout ?? ''));
  let syncS: number | undefined;
  if (out && sync) {
    const t0 = performance.now();
    await run('sync', [out]);
    syncS = (performance.now() - t0) / 1000;
  }
  if (out) await rm(out, { force: true });
  return {
    s,
    cpuS: cpu[0]! + cpu[1]!,
    bytes,
    rssMiB: Number(rss[1]) / 1024,
    ...(syncS === undefined ? {} : { syncS }),
  };
}

/** The real dump with an extra PT_LOAD of `extra` bytes above its memory: zero, 1 in `every` pages random. */
export function buildLargeVmcore(real: string, out: string, extra: number, every = 16): void {
  if (existsSync(out) && statSync(out).size > extra) return;
  const src = openSync(real, 'r');
  const dst = openSync(out, 'w', 0o600);
  const head = Buffer.alloc(64);
  readSync(src, head, 0, 64, 0);
  const phoff = Number(head.readBigUInt64LE(32));
  const phnum = head.readUInt16LE(56);
  const table = Buffer.alloc(phnum * 56);
  readSync(src, table, 0, table.length, phoff);
  const buf = Buffer.alloc(4 << 20);
  const size = statSync(real).size;
  for (let at = 0; at < size; at += buf.length) {
    const n = readSync(src, buf, 0, Math.min(buf.length, size - at), at);
    if (buf.subarray(0, n).some((b) => b !== 0)) writeSync(dst, buf, 0, n, at);
  }
  let top = 0n;
  for (let i = 0; i < phnum; i++) {
    const p = table.subarray(i * 56);
    if (p.readUInt32LE(0) === 1)
      top =
        top > p.readBigUInt64LE(24) + p.readBigUInt64LE(40)
          ? top
          : p.readBigUInt64LE(24) + p.readBigUInt64LE(40);
  }
  const paddr = (top + 0x3fff_ffffn) & ~0x3fff_ffffn; // next 1 GiB boundary
  const dataOff = Math.ceil(size / 4096) * 4096;
  for (let at = 0; at < extra; at += every * 4096) writeSync(dst, randomBytes(4096), 0, 4096, dataOff + at);
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(1, 0);
  ph.writeUInt32LE(7, 4);
  ph.writeBigUInt64LE(BigInt(dataOff), 8);
  ph.writeBigUInt64LE(0n, 16);
  ph.writeBigUInt64LE(paddr, 24);
  ph.writeBigUInt64LE(BigInt(extra), 32);
  ph.writeBigUInt64LE(BigInt(extra), 40);
  const newPhoff = dataOff + extra;
  writeSync(dst, Buffer.concat([table, ph]), 0, table.length + 56, newPhoff);
  head.writeBigUInt64LE(BigInt(newPhoff), 32);
  head.writeUInt16LE(phnum + 1, 56);
  writeSync(dst, head, 0, 64, 0);
  closeSync(src);
  closeSync(dst);
}

const zero: Timed = { s: 0, cpuS: 0, bytes: 0, rssMiB: 0 };

export async function benchVmcore(log: (s: string) => void = () => {}): Promise<VmcoreBenchRow[]> {
  const lab = labDir();
  const real = join(lab, 'kdump/vmcore.elf');
  if (!existsSync(real)) throw new Error(`${real} missing: run test/lab/kdump.test.ts first`);
  const setup = JSON.parse(readFileSync(join(lab, 'setup.json'), 'utf8')) as {
    makedumpfileRoot: string;
    kexecToolsRoot: string;
  };
  const md = join(setup.makedumpfileRoot, 'usr/bin/makedumpfile');
  const vd = join(setup.kexecToolsRoot, 'sbin/vmcore-dmesg');
  const cli = [process.execPath, join(import.meta.dirname, '../src/bin/kexec-ts.js')];
  const large = '/tmp/kexec-ts-bench-large.elf';
  log('building the large synthetic vmcore (real dump + appended PT_LOAD)');
  buildLargeVmcore(real, large, 2 ** 31 - statSync(real).size - (64 << 20));
  const out = '/tmp/kexec-ts-bench-out';
  const rows: VmcoreBenchRow[] = [];
  // Node's own floor: the RSS target for save is makedumpfile's peak plus this.
  log('baseline: node -e ""');
  const base = await timed([process.execPath, '-e', '']);
  rows.push({ input: '—', task: 'node -e "" (baseline)', ours: base, theirs: { tool: '—', ...zero } });
  for (const [input, file] of [
    ['real 6.1 (1.3 GB)', real],
    ['synthetic (2 GiB)', large],
  ] as const) {
    for (const [task, ours, tool, theirs] of [
      ['save -d 1 -c (zlib)', ['-d', '1', '-c'], 'makedumpfile -d 1 -c', ['-d', '1', '-c']],
      ['save -d 1 --zstd', ['-d', '1', '--zstd'], 'makedumpfile -d 1 -l', ['-d', '1', '-l']],
      ['save -d 1 -l (LZO)', ['-d', '1', '-l'], 'makedumpfile -d 1 -l', ['-d', '1', '-l']],
      ['save -d 1 -p (snappy)', ['-d', '1', '-p'], 'makedumpfile -d 1 -l', ['-d', '1', '-l']],
      ['save -d 1 (no compression)', ['-d', '1'], 'makedumpfile -d 1', ['-d', '1']],
      ['save -d 31 -c (zlib)', ['-d', '31', '-c'], 'makedumpfile -d 31 -c', ['-d', '31', '-c']],
      ['save -d 31 (no compression)', ['-d', '31'], 'makedumpfile -d 31', ['-d', '31']],
      ['save -E -d 31 (ELF)', ['-E', '-d', '31'], 'makedumpfile -E -d 31', ['-E', '-d', '31']],
    ] as const) {
      log(`${input}: ${task}`);
      const o = await timed([...cli, 'vmcore', 'save', ...ours, '--no-dmesg', '--force', file, out], out);
      const t = await timed([md, ...theirs, file, out], out, true);
      rows.push({ input, task, ours: o, theirs: { tool, ...t } });
    }
    log(`${input}: dmesg`);
    const o = await timed([...cli, 'vmcore', 'dmesg', file]);
    const t = await timed([vd, file]);
    rows.push({ input, task: 'dmesg', ours: o, theirs: { tool: 'vmcore-dmesg', ...t } });
    if (file !== real) continue;
    log(`${input}: dmesg of the kdump-compressed LZO file`);
    const lzo = `${out}.lzo`;
    await run(cli[0]!, [
      ...cli.slice(1),
      'vmcore',
      'save',
      '-d',
      '1',
      '-l',
      '--no-dmesg',
      '--force',
      file,
      lzo,
    ]);
    const ok = await timed([...cli, 'vmcore', 'dmesg', lzo]);
    const tk = await timed([md, '--dump-dmesg', lzo, `${out}.txt`], `${out}.txt`);
    rows.push({
      input,
      task: 'dmesg (kdump lzo)',
      ours: ok,
      theirs: { tool: 'makedumpfile --dump-dmesg', ...tk },
    });
    await rm(lzo, { force: true });
    await rm(`${out}.txt`, { force: true });
  }
  return rows;
}

export function formatVmcoreBench(rows: VmcoreBenchRow[]): string {
  const f = (n: number, d = 2) => n.toFixed(d);
  const lines = [
    '| input | kexec-ts | s | CPU s | MiB out | RSS MiB | reference | s | s +sync | CPU s | MiB out | RSS MiB | CPU ratio | size ratio |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.input} | ${r.task} | ${f(r.ours.s)} | ${f(r.ours.cpuS)} | ${f(r.ours.bytes / 2 ** 20, 1)} | ${f(r.ours.rssMiB, 0)} | ` +
        `${r.theirs.tool} | ${f(r.theirs.s)} | ${r.theirs.syncS === undefined ? '—' : f(r.theirs.s + r.theirs.syncS)} | ${f(r.theirs.cpuS)} | ${f(r.theirs.bytes / 2 ** 20, 1)} | ${f(r.theirs.rssMiB, 0)} | ` +
        `${r.theirs.cpuS > 0 ? f(r.ours.cpuS / r.theirs.cpuS) : '—'} | ${r.theirs.bytes > 0 ? f(r.ours.bytes / r.theirs.bytes) : '—'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
