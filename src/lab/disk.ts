// Disk images for lab guests: an ext4 file system holding the files of an (uncompressed) cpio archive,
// e.g. the guest's own rootfs, so a guest kernel can mount a real root file system from a virtio disk.
// Built on the host with e2fsprogs' `mke2fs -d` (populates the new file system from a directory).
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';

export interface Ext4FromCpioOptions {
  /** An uncompressed newc archive (a LabBuild rootfs with compression 'none'). */
  cpio: string;
  output: string;
  sizeMiB: number;
  label: string;
}

export async function ext4FromCpio(o: Ext4FromCpioOptions): Promise<void> {
  const tree = await mkdtemp(join(tmpdir(), 'kexec-ts-disk-'));
  try {
    await run(['cpio', '-i', '--quiet', '-d', '-m', '-D', tree, '-F', o.cpio], {
      hint: 'apt-get install cpio',
    });
    await rm(o.output, { force: true });
    await writeFile(o.output, '');
    await truncate(o.output, o.sizeMiB * 2 ** 20);
    await run(['mke2fs', '-q', '-F', '-t', 'ext4', '-L', o.label, '-d', tree, o.output], {
      hint: 'apt-get install e2fsprogs (1.43 or newer for -d)',
    });
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}
