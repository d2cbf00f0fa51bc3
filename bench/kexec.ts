// Benchmark, not a test: in one lab guest, kexec-ts against Debian's kexec-tools on the same kernel and
// initrd, both through kexec_file_load (-s): load latency (in-guest, /proc/uptime around the command)
// and exec-to-new-userspace (host clock: the exec command sent until the next kernel's READY line).
// The first kexec out of the firmware-booted kernel is much slower than later ones under TCG (measured:
// 18.6 s against 12.1 s to the next kernel's first line, whichever tool goes first), so one unmeasured
// warm-up exec comes first and the tools then alternate.
import type { GuestConsole } from '../src/lab/console.js';
import { startGuest } from '../src/lab/guest.js';
import { makeChain } from '../src/lab/guest-scripts.js';

const LOAD_RUNS = 3;
const EXEC_RUNS = 2;
const CHAIN = makeChain();
const TOOLS = { 'kexec-ts': 'kexec-ts', 'kexec-tools': '/sbin/kexec' } as const;
type Tool = keyof typeof TOOLS;

export interface KexecBenchResult {
  kernelRelease: string;
  initrdBytes: number;
  /** Seconds per run, in-guest wall time of `TOOL -s -l ...`. */
  load: Record<Tool, number[]>;
  /** Seconds from sending `TOOL -e` to the new kernel's first line, and to its userspace READY. */
  exec: Record<Tool, { toKernel: number; toUserspace: number }[]>;
}

const best = (xs: number[]) => Math.min(...xs);

async function timedLoad(c: GuestConsole, tool: Tool): Promise<number> {
  const cmd = `${TOOLS[tool]} -s -l /boot/vmlinuz --initrd=/tmp/chain.img --append="$(cat /proc/cmdline)"`;
  const out = await c.check(
    `read a _ </proc/uptime; ${cmd} >/dev/null 2>&1 || echo FAIL; read b _ </proc/uptime; echo "T $a $b"`,
    300_000,
  );
  const m = /T ([\d.]+) ([\d.]+)/.exec(out);
  if (!m || out.includes('FAIL')) throw new Error(`${tool} load failed in the guest:\n${out}`);
  await c.check(`${TOOLS[tool]} -u`, 120_000);
  return Number(m[2]) - Number(m[1]);
}

async function timedExec(c: GuestConsole, tool: Tool): Promise<{ toKernel: number; toUserspace: number }> {
  await c.check(CHAIN, 300_000);
  await c.check(
    `${TOOLS[tool]} -s -l /boot/vmlinuz --initrd=/tmp/chain.img --append="$(cat /proc/cmdline)"`,
    300_000,
  );
  // Equalise a QEMU TCG artifact: pages that held JIT-compiled guest code (Node's) make the next
  // kernel's writes to them slow, which lengthened initramfs unpacking after kexec-ts only (measured:
  // 10-11.7 s against 6.5 s, and the same slowdown for kexec-tools once Node had run). Real CPUs have
  // no such cost, so Node runs before either tool's exec.
  await c.check('kexec-ts -S >/dev/null; kexec-ts doctor >/dev/null', 120_000);
  const sent = c.now();
  c.send(`${TOOLS[tool]} -e\n`);
  const boot = await c.waitReady(600_000);
  if (boot.kernelStart === undefined || boot.ready === undefined)
    throw new Error(`${tool}: boot not observed`);
  return { toKernel: (boot.kernelStart - sent) / 1000, toUserspace: (boot.ready - sent) / 1000 };
}

export async function benchKexec(log: (s: string) => void = () => {}): Promise<KexecBenchResult> {
  const guest = await startGuest({ memoryMiB: 3072, log });
  const c = guest.console;
  try {
    await c.check(CHAIN, 300_000);
    const initrdBytes = Number(await c.check('stat -c %s /tmp/chain.img'));
    const load: Record<Tool, number[]> = { 'kexec-ts': [], 'kexec-tools': [] };
    for (let i = 0; i < LOAD_RUNS; i++) {
      for (const tool of Object.keys(TOOLS) as Tool[]) {
        const s = await timedLoad(c, tool);
        log(`load ${tool} run ${i + 1}: ${s.toFixed(2)} s`);
        load[tool].push(s);
      }
    }
    await timedExec(c, 'kexec-tools');
    const exec: KexecBenchResult['exec'] = { 'kexec-ts': [], 'kexec-tools': [] };
    for (let i = 0; i < EXEC_RUNS; i++) {
      for (const tool of Object.keys(TOOLS) as Tool[]) {
        const t = await timedExec(c, tool);
        log(
          `exec ${tool}: kernel after ${t.toKernel.toFixed(2)} s, userspace after ${t.toUserspace.toFixed(2)} s`,
        );
        exec[tool].push(t);
      }
    }
    return { kernelRelease: guest.build.kernelRelease, initrdBytes, load, exec };
  } finally {
    await guest.close();
  }
}

export function formatKexecBench(r: KexecBenchResult): string {
  const pick = (tool: Tool, k: 'toKernel' | 'toUserspace') => best(r.exec[tool].map((e) => e[k]));
  const lts = best(r.load['kexec-ts']);
  const lkt = best(r.load['kexec-tools']);
  const row = (name: string, a: number, b: number) =>
    `${name.padEnd(34)}${a.toFixed(2).padStart(10)}${b.toFixed(2).padStart(13)}${(a / b).toFixed(2).padStart(9)}`;
  return [
    `kexec-ts vs kexec-tools 2.0.25 (Debian), both -s, kernel ${r.kernelRelease}, initrd ${(r.initrdBytes / 2 ** 20).toFixed(0)} MiB, QEMU TCG`,
    `${'seconds'.padEnd(34)}${'kexec-ts'.padStart(10)}${'kexec-tools'.padStart(13)}${'ratio'.padStart(9)}`,
    row(`load, best of ${r.load['kexec-ts'].length}`, lts, lkt),
    row(
      `exec -> new kernel, best of ${EXEC_RUNS}`,
      pick('kexec-ts', 'toKernel'),
      pick('kexec-tools', 'toKernel'),
    ),
    row(
      `exec -> new userspace, best of ${EXEC_RUNS}`,
      pick('kexec-ts', 'toUserspace'),
      pick('kexec-tools', 'toUserspace'),
    ),
    '',
  ].join('\n');
}
