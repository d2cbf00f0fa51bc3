// What both save writers take from the source as it is: the PT_NOTE segments (copied verbatim into a
// kdump-compressed file or a filtered ELF) and the size of the chunks pages are read in. Kept apart
// from kdump-writer.ts so the ELF writer does not load the page compressors (zlib, liblzo2).
import { PT_NOTE } from '../../formats/elf/phdr.js';
import type { ElfVmcore } from '../vmcore-elf.js';

/**
 * Source bytes read per chunk when the source is read() (a mapped one is lent a window at a time, not
 * copied). 256 KiB keeps the read buffer and the output buffer in the CPU caches between the kernel's
 * copy and the compressor: on the lab's real dump `save -d 1 -l` spent 0.9-1.2 s of system time at
 * 1 MiB and 0.4-0.6 s at 256 KiB (docs/kdump.md).
 */
export const READ_CHUNK = 256 << 10;

/** The PT_NOTE segments verbatim (concatenated), and where the VMCOREINFO desc lies inside them. */
export function copyNotes(vm: ElfVmcore): { data: Uint8Array; vmcoreinfo?: { at: number; size: number } } {
  const parts: Uint8Array[] = [];
  let base = 0;
  let vmcoreinfo: { at: number; size: number } | undefined;
  for (const p of vm.phdrs) {
    if (p.p_type !== PT_NOTE) continue;
    const start = Number(p.p_offset);
    const part = vm.reader.read(start, Number(p.p_filesz));
    for (const n of vm.notes) {
      if (vmcoreinfo || n.name !== 'VMCOREINFO' || n.offset < start || n.offset >= start + part.byteLength)
        continue;
      const descAt = n.offset - start + 12 + align4(n.name.length + 1);
      vmcoreinfo = { at: base + descAt, size: n.desc.byteLength };
    }
    parts.push(part);
    base += part.byteLength;
  }
  const data = new Uint8Array(base);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.byteLength;
  }
  return vmcoreinfo ? { data, vmcoreinfo } : { data };
}

const align4 = (n: number) => (n + 3) & ~3;
