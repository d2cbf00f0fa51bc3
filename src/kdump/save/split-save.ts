// Writes the parts of a split dump (split.ts) one after another, sharing one struct page pass. A part that
// fails is kept as PART.incomplete (its header flagged incomplete) and the parts after it are not written.
import { planFilter } from '../filter/index.js';
import type { ElfVmcore } from '../vmcore-elf.js';
import { type Compression, type KdumpSaveStats, writeKdumpCompressed } from './kdump-writer.js';
import { PhysMemory } from './phys.js';
import { openFileSink } from './sink.js';
import { splitBounds } from './split.js';

export interface SplitSaveOptions {
  level: number;
  compression: Compression;
  pread: (into: Uint8Array, offset: number) => void;
  onWarning: (message: string) => void;
  /** A new progress reporter (pages done, pages in the part) for each part. */
  progress: () => (done: number, total: number) => void;
  report: (parts: (KdumpSaveStats & { path: string })[], ms: number) => void;
}

export function saveSplit(vm: ElfVmcore, parts: string[], o: SplitSaveOptions): number {
  const t0 = performance.now();
  const pageSize = Number(vm.vmcoreinfo?.pageSize ?? 4096) || 4096;
  const phys = new PhysMemory(vm, pageSize, o.pread);
  const filter = planFilter(vm, phys, o.level);
  const bounds = splitBounds(phys.ranges, filter.exclusion?.excluded, phys.maxMapnr, parts.length);
  const out: (KdumpSaveStats & { path: string })[] = [];
  for (const [i, path] of parts.entries()) {
    const sink = openFileSink(path);
    try {
      const stats = writeKdumpCompressed(vm, sink, {
        level: o.level,
        compression: o.compression,
        pread: o.pread,
        filter,
        split: bounds[i]!,
        onProgress: o.progress(),
        // The shared filter's warnings once, not once per part.
        ...(i === 0 ? { onWarning: o.onWarning } : {}),
      });
      sink.commit();
      out.push({ path, ...stats });
    } catch (e) {
      const kept = sink.abort(sink.written === 0 ? undefined : `${path}.incomplete`);
      if (kept) o.onWarning(`failed; the partial part (header flag INCOMPLETE) is ${kept}`);
      throw e;
    }
  }
  o.report(out, performance.now() - t0);
  return 0;
}
