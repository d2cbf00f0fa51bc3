// `kexec-ts inspect`: what an image is and how it can be loaded (formats/inspect.ts does the work).
import { writeFileSync } from 'node:fs';
import { FileError, UsageError } from '../../errors.js';
import { defineCommand, JSON_OPTION } from '../command.js';

export const INSPECT = defineCommand({
  name: 'inspect',
  summary: 'what a kernel image or initramfs is, and how it can be loaded',
  manSection: 1,
  usage: ['FILE... [--json] [--members]', '--extract-vmlinux BZIMAGE -o OUT [--json]'],
  description: [
    'Describe kernel images (bzImage, ELF, UKI, EFI zboot, arm64/riscv64 Image, multiboot) and initramfs ' +
      'files: type, architecture, kernel version, compression, signature, sizes, and the system calls ' +
      'kexec-ts can load each with. Reads the files; loads nothing.',
  ],
  options: [
    { ...JSON_OPTION, help: 'machine-readable output' },
    { id: 'members', long: ['members'], help: 'list every initramfs member, not only the summary' },
    {
      id: 'extractVmlinux',
      long: ['extract-vmlinux'],
      help: "decompress a bzImage's payload and write the vmlinux ELF to OUT",
    },
    {
      id: 'output',
      long: ['output'],
      short: 'o',
      arg: 'OUT',
      complete: 'file',
      help: 'where --extract-vmlinux writes',
    },
  ],
  operands: [
    {
      name: 'FILE',
      arity: 'some',
      complete: 'kernel',
      help: 'a kernel image or initramfs file',
      example: 'kexec-ts inspect /boot/vmlinuz',
    },
  ],
  run: async ({ json, members, extractVmlinux, output, FILE }, { io, getSys, writeFile }) => {
    const sys = await getSys();
    if (extractVmlinux) {
      if (FILE.length !== 1 || output === undefined)
        throw new UsageError('inspect --extract-vmlinux takes one bzImage and -o OUT', {
          hint: 'kexec-ts inspect --extract-vmlinux /boot/vmlinuz -o vmlinux',
        });
      const { extractVmlinux: extract } = await import('../../formats/bzimage/extract.js');
      const r = extract(sys.readFile(FILE[0]!));
      (writeFile ?? defaultWriteFile)(output, r.vmlinux);
      const summary = { file: FILE[0], output, compression: r.compression, size: r.vmlinux.byteLength };
      io.stdout(
        json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `${output}: vmlinux (ELF x86_64, ${r.vmlinux.byteLength} bytes) from a ${r.compression} payload\n`,
      );
      return 0;
    }
    if (output !== undefined) throw new UsageError('inspect: -o is only for --extract-vmlinux');
    const { inspectImage, formatImageInfo } = await import('../../formats/inspect.js');
    const { kernelVerdict } = await import('../../kexec/signature-policy.js');
    const infos = FILE.map((path) => {
      const bytes = sys.readFile(path);
      const info = { path, ...inspectImage(bytes, path, { members }) };
      if (info.pe) {
        const k = kernelVerdict(sys, bytes);
        info.kernelAccepts = `${k.answer}, because ${k.because}`;
      }
      return info;
    });
    if (json) io.stdout(`${JSON.stringify(infos.length === 1 ? infos[0] : infos, null, 2)}\n`);
    else io.stdout(`${infos.map((i) => `${i.path}:\n${formatImageInfo(i)}`).join('\n\n')}\n`);
    return 0;
  },
});

function defaultWriteFile(path: string, data: Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new FileError(path, (e as NodeJS.ErrnoException).code ?? 'EIO', { cause: e });
  }
}
