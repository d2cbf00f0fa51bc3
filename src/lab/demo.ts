// `kexec-ts lab demo`: in one guest, kexec into a fresh kernel with kexec-ts, then do a full firmware
// reboot, and compare how long each takes to reach userspace again.
import { LabError } from '../errors.js';
import type { BootEvent, TranscriptLine } from './console.js';
import { startGuest } from './guest.js';

export interface Timeline {
  label: string;
  command: string;
  /** ms since QEMU start when the command was sent. */
  sent: number;
  /** command -> the kernel's last line (`kexec_core: Starting new kernel` / `reboot: Restarting system`). */
  toHandoffMs: number | undefined;
  /** command -> `Linux version` (kexec: kexec-ts -e, shutdown, purgatory; reboot: reset, firmware, loader). */
  toKernelMs: number | undefined;
  /** `Linux version` -> READY (kernel init, initramfs unpack, /init). */
  kernelToReadyMs: number | undefined;
  totalMs: number;
  /** Guest /proc/uptime at READY, seconds. */
  guestUptime: number | undefined;
}

export interface DemoResult {
  kernelRelease: string;
  tool: string;
  qemu: string[];
  firstBoot: BootEvent;
  kexec: Timeline;
  reboot: Timeline;
}

export interface DemoOptions {
  ovmf?: boolean;
  /** Which loader runs in the guest; Debian's kexec-tools is there for comparison runs. */
  tool?: 'kexec-ts' | 'kexec-tools';
  log?: (line: string) => void;
  onLine?: (line: TranscriptLine) => void;
}

export async function labDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? (() => {});
  const guest = await startGuest({
    log,
    ...(opts.ovmf ? { ovmf: true } : {}),
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
  });
  try {
    const c = guest.console;
    const tool = opts.tool === 'kexec-tools' ? 'kexec' : 'kexec-ts';
    log(`booted ${guest.build.kernelRelease}; loading with ${tool}`);
    const load = await c.run(`${tool} -l /boot/vmlinuz --initrd=/boot/initrd.img --reuse-cmdline`, 180_000);
    if (load.status !== 0) {
      throw new LabError(`${tool} -l failed in the guest (status ${load.status}):\n${load.output}`, {
        hint: 'run "kexec-ts lab boot" and try the command by hand',
      });
    }
    const loaded = await c.check('cat /sys/kernel/kexec_loaded');
    if (loaded !== '1') {
      throw new LabError(`${tool} -l returned 0 but /sys/kernel/kexec_loaded is ${loaded}:\n${load.output}`, {
        hint: 'the load did not reach the kernel; try it by hand in "kexec-ts lab boot"',
      });
    }
    const kexec = await timed(guest.console, 'kexec', `${tool} -e`);
    log('second kernel up; now a full reboot');
    const reboot = await timed(guest.console, 'reboot', 'reboot -f');
    return {
      kernelRelease: guest.build.kernelRelease,
      tool,
      qemu: guest.argv,
      firstBoot: guest.firstBoot,
      kexec,
      reboot,
    };
  } finally {
    await guest.close();
  }
}

async function timed(c: Awaited<ReturnType<typeof startGuest>>['console'], label: string, command: string) {
  const sent = c.now();
  c.send(`${command}\n`);
  const b = await c.waitReady(240_000);
  const ready = b.ready ?? c.now();
  const handoff = c.lines.find((l) => l.t >= sent && /Starting new kernel|Restarting system/.test(l.text));
  const t: Timeline = {
    label,
    command,
    sent,
    toHandoffMs: handoff === undefined ? undefined : handoff.t - sent,
    toKernelMs: b.kernelStart === undefined ? undefined : b.kernelStart - sent,
    kernelToReadyMs: b.kernelStart === undefined ? undefined : ready - b.kernelStart,
    totalMs: ready - sent,
    guestUptime: b.uptime,
  };
  return t;
}

/** Both timelines side by side. */
/** Why the lab's numbers are not those of real hardware (docs/lab.md, docs/testing.md). */
const READING_NOTES = [
  'Reading this under QEMU TCG (software emulation): the firmware column is SeaBIOS loading the kernel',
  'straight from QEMU, well under a second, where real server firmware takes tens of seconds to minutes.',
  'The kexec column pays emulated costs real CPUs do not: the purgatory SHA-256 over every segment, and',
  'slow writes to guest pages that held Node JIT code, which lengthen the next initramfs unpack.',
];

export function formatDemo(r: DemoResult): string {
  const s = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(2)} s`);
  const rows: [string, string, string][] = [
    ['', `kexec (${r.kexec.command})`, `firmware reboot (${r.reboot.command})`],
    ['command -> old kernel hands off', s(r.kexec.toHandoffMs), s(r.reboot.toHandoffMs)],
    ['command -> "Linux version"', s(r.kexec.toKernelMs), s(r.reboot.toKernelMs)],
    ['  (what runs there)', `${r.tool}, shutdown, purgatory`, 'shutdown, reset, firmware, loader'],
    ['"Linux version" -> READY', s(r.kexec.kernelToReadyMs), s(r.reboot.kernelToReadyMs)],
    ['command -> READY (total)', s(r.kexec.totalMs), s(r.reboot.totalMs)],
    [
      'guest uptime at READY',
      s(r.kexec.guestUptime && r.kexec.guestUptime * 1000),
      s(r.reboot.guestUptime && r.reboot.guestUptime * 1000),
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const lines = rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  const first = r.firstBoot;
  lines.unshift(`guest kernel ${r.kernelRelease}; first boot: QEMU start -> READY ${s(first.ready)}`, '');
  lines.push('', ...READING_NOTES);
  return `${lines.join('\n')}\n`;
}
