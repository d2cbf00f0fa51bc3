// `kexec-ts lab ...`: what the lab's commands do (their table is src/cli/commands/lab.ts).
import { realSys } from '../sys/index.js';
import type { Io } from '../sys/io.js';
import { formatDemo, labDemo } from './demo.js';
import { prepareLab } from './guest.js';
import { labBuild } from './initramfs.js';
import { qemuArgv } from './qemu.js';
import { labSetup } from './setup.js';

const logTo = (io: Io) => (l: string) => io.stderr(`lab: ${l}\n`);
const kernelPackage = (kernel: string | undefined) => (kernel ? { kernelPackage: kernel } : {});

export async function labSetupCommand(io: Io, o: { kernel: string | undefined }): Promise<number> {
  const s = await labSetup({ log: logTo(io), refresh: true, ...kernelPackage(o.kernel) });
  io.stdout(`kernel ${s.kernelPackage} (${s.kernelRelease})\n${s.vmlinuz}\n`);
  if (s.note) io.stdout(`note: ${s.note}\n`);
  return 0;
}

export async function labBuildCommand(io: Io, o: { kernel: string | undefined }): Promise<number> {
  const log = logTo(io);
  const setup = await labSetup({ log, ...kernelPackage(o.kernel) });
  const b = await labBuild({ setup, log });
  io.stdout(`${b.initrd}\nnonce ${b.nonce}\n`);
  return 0;
}

export async function labDemoCommand(
  io: Io,
  o: { json: boolean; ovmf: boolean; withKexecTools: boolean },
): Promise<number> {
  const r = await labDemo({
    log: logTo(io),
    ...(o.ovmf ? { ovmf: true } : {}),
    ...(o.withKexecTools ? { tool: 'kexec-tools' as const } : {}),
  });
  io.stdout(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatDemo(r));
  return 0;
}

/** Interactive: QEMU owns the terminal (raw mode, Ctrl-A X to quit, Ctrl-A C for its monitor). */
export async function labBootCommand(
  io: Io,
  o: { kernel: string | undefined; append: string | undefined; ovmf: boolean },
): Promise<number> {
  const log = logTo(io);
  const { build } = await prepareLab({ log, ...kernelPackage(o.kernel) });
  const argv = qemuArgv(
    {
      kernel: build.kernel,
      initrd: build.initrd,
      ...(o.append ? { append: o.append } : {}),
      ...(o.ovmf ? { ovmf: true } : {}),
    },
    'mon:stdio',
  );
  log(`${argv.join(' ')}`);
  log('Ctrl-A X quits QEMU');
  return realSys().spawn(argv);
}
