// Dump-level filtering for `vmcore save`: which pfns the requested level drops, and the level that was
// really applied (recorded in the dump header). Zero pages (bit 1) are found while writing, by content;
// the other bits need struct pages (exclude.ts). Any failure to read them lowers the level to what
// needs no struct page, with a warning, rather than failing the dump.
import { EM_X86_64 } from '../../formats/elf/ehdr.js';
import type { PhysMemory } from '../save/phys.js';
import type { ElfVmcore } from '../vmcore-elf.js';
import { elfPhysSource, X86_64PageTables } from '../x86-64-pagetable.js';
import { type Exclusion, excludePages } from './exclude.js';
import { DL_ZERO, type LevelPlan, planLevel } from './rules.js';

export type { Exclusion, PageClass } from './exclude.js';
export { DL_CACHE, DL_CACHE_PRIVATE, DL_FREE, DL_USER, DL_ZERO, VERIFIED_KERNELS } from './rules.js';

export interface PageFilter {
  requested: number;
  /** The level applied and recorded. */
  level: number;
  /** Undefined when no struct page was read (nothing excluded but zero pages). */
  exclusion: Exclusion | undefined;
  verifiedKernel: string | undefined;
  warnings: string[];
}

export function planFilter(vm: ElfVmcore, phys: PhysMemory, requested: number): PageFilter {
  const plan: LevelPlan = planLevel(vm.vmcoreinfo, requested, vm.header.e_machine === EM_X86_64);
  const out: PageFilter = {
    requested,
    level: plan.applied,
    exclusion: undefined,
    verifiedKernel: plan.verified?.release,
    warnings: plan.warnings,
  };
  if (!plan.walk || !plan.rules || !vm.vmcoreinfo) return out;
  try {
    const mem = new X86_64PageTables(vm.vmcoreinfo, elfPhysSource(vm));
    out.exclusion = excludePages(
      mem,
      vm.vmcoreinfo,
      plan.rules,
      plan.applied,
      phys.ranges,
      phys.maxMapnr,
      phys.pageSize,
    );
  } catch (e) {
    out.warnings.push(
      `struct pages could not be read (${(e as Error).message}): only zero pages are excluded`,
    );
    out.level = plan.applied & DL_ZERO;
  }
  return out;
}
