// `vmcore save --split`: one dump in several kdump-compressed files, as makedumpfile --split writes them
// (makedumpfile.c setup_splitting, writeout_multiple_dumpfiles). Each part holds the pages of one pfn
// range and the whole dump's header and bitmaps; crash opens the parts together (`crash vmlinux A B`)
// and makedumpfile --reassemble joins them. Parts are written one after another here; makedumpfile
// forks a process per part.
import { UsageError } from '../../errors.js';
import { countKept, type PfnRange } from './phys.js';

/**
 * crash counts a part's dumpable pages from start_pfn_64 a 64-bit word at a time (diskdump.c
 * read_dump_header), so part boundaries must be multiples of 64 pfns; 4096 also matches its
 * BITMAP_SECT_LEN sections.
 */
export const SPLIT_BLOCK_PFNS = 4096;

/**
 * Cuts [0, maxMapnr) into `parts` contiguous ranges at multiples of `block` pfns, each holding about
 * the same number of kept pages (makedumpfile balances by dumpable pages too, calculate_end_pfn_by_splitblock).
 */
export function splitBounds(
  ranges: readonly PfnRange[],
  excluded: Uint8Array | undefined,
  maxMapnr: number,
  parts: number,
  block: number = SPLIT_BLOCK_PFNS,
): PfnRange[] {
  const blocks = Math.ceil(maxMapnr / block);
  if (parts < 2 || parts > blocks) {
    throw new UsageError(`vmcore save --split: ${parts} parts for a dump of ${maxMapnr} pfns`, {
      hint: `give between 2 and ${blocks} destination files`,
    });
  }
  const kept = Array.from({ length: blocks }, (_, b) =>
    countKept(ranges, excluded, b * block, Math.min((b + 1) * block, maxMapnr)),
  );
  const total = kept.reduce((n, k) => n + k, 0);
  const out: PfnRange[] = [];
  let start = 0;
  let seen = 0;
  for (let b = 0; b < blocks && out.length < parts - 1; b++) {
    const end = Math.min((b + 1) * block, maxMapnr);
    seen += kept[b]!;
    // Leave at least one block for each part still to come.
    const left = parts - 1 - out.length;
    if (seen >= (total * (out.length + 1)) / parts || blocks - (b + 1) === left) {
      out.push({ start, end });
      start = end;
    }
  }
  out.push({ start, end: maxMapnr });
  return out;
}
