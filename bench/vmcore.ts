// `vmcore save` and `vmcore dmesg` against Debian's makedumpfile 1.7.2 and vmcore-dmesg on the host,
// on the lab's real dump (<lab>/kdump/vmcore.elf, from test/lab/kdump.test.ts) and on a synthetic one
// with more data: the real dump with its free zero pages filled (buildFilledVmcore), so both tools still
// classify every page alike and dump the same pages. (An earlier synthetic appended a PT_LOAD above the
// kernel's memory; makedumpfile leaves such pfns out, so the two tools did different work.) Time,
// output size and peak RSS come from /usr/bin/time -v. Debian's makedumpfile ignores -z and -p (zstd and
// snappy not built in), so --zstd and -p are compared with its fastest, -l (LZO). `dmesg (kdump lzo)`
// reads our LZO file, against makedumpfile --dump-dmesg.
// `vmcore save` fsyncs its file before the rename and makedumpfile does not, so the reference's wall time
// is also given with a `sync FILE` after it (`s +sync`); CPU seconds need no such correction.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openFileReader } from '../src/kdump/file-reader.js';
import { planFilter } from '../src/kdump/filter/index.js';
import { PhysMemory } from '../src/kdump/save/phys.js';
import { openElfVmcore } from '../src/kdump/vmcore-elf.js';
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

/**
 * The real dump with every free page that holds only zeros filled with data (half random bytes, half
 * zeros: compressible about 2:1). Only pages the kernel's own struct pages call free (level 16) are
 * touched, so struct pages, page tables and every kernel structure stay as they were: both tools
 * classify every page as on the real dump, and at -d 1 both dump the same, larger set of pages.
 */
export function buildFilledVmcore(real: string, out: string): void {
  // Rebuilt when the lab saves a new dump: the copy must be newer than its source.
  if (existsSync(out) && statSync(out).mtimeMs > statSync(real).mtimeMs) return;
  const tmp = `${out}.tmp`;
  copyFileSync(real, tmp);
  const reader = openFileReader(real);
  const vm = openElfVmcore(reader);
  const phys = new PhysMemory(vm, 4096);
  const free = planFilter(vm, phys, 16).exclusion;
  if (!free || free.counts.free === 0) throw new Error(`${real}: no free pages found to fill`);
  // RAM that a second PT_LOAD repeats (x86_64 kernel text) stays as it is: makedumpfile reads such a
  // page from the first PT_LOAD, PhysMemory from the direct map, and on a real dump both hold the same.
  const repeated = vm.loads
    .filter((s) => !phys.segments.includes(s))
    .map((s) => ({ start: Number(s.paddr) / 4096, end: Number(s.paddr + s.memsz) / 4096 }));
  const fd = openSync(tmp, 'r+');
  const page = Buffer.alloc(4096);
  for (const r of phys.ranges) {
    for (let pfn = r.start; pfn < r.end; pfn++) {
      if (!((free.excluded[pfn >> 3]! >> (pfn & 7)) & 1)) continue;
      if (repeated.some((x) => pfn + 1 > x.start && pfn < x.end)) continue;
      const at = phys.storedRun(pfn, 1);
      if (!at) continue;
      readSync(fd, page, 0, 4096, at.offset);
      if (page.some((b) => b !== 0)) continue;
      randomFillSync(page, 0, 2048);
      writeSync(fd, page, 0, 4096, at.offset);
      page.fill(0);
    }
  }
  closeSync(fd);
  reader.close();
  renameSync(tmp, out);
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
  const filled = '/tmp/kexec-ts-bench-filled.elf';
  log('building the synthetic vmcore (real dump, free zero pages filled with data)');
  buildFilledVmcore(real, filled);
  const out = '/tmp/kexec-ts-bench-out';
  const rows: VmcoreBenchRow[] = [];
  // Node's own floor: the RSS target for save is makedumpfile's peak plus this.
  log('baseline: node -e ""');
  const base = await timed([process.execPath, '-e', '']);
  rows.push({ input: '—', task: 'node -e "" (baseline)', ours: base, theirs: { tool: '—', ...zero } });
  for (const [input, file] of [
    ['real 6.1 (1.3 GB)', real],
    ['synthetic, filled (1.3 GB)', filled],
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
