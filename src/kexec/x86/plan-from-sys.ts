// The one call kexecLoadPath needs on x86_64: read the machine's memory map and what boot_params should
// inherit through `sys`, then plan. The caller runs sys.kexecLoad(plan.entry, plan.segments, plan.flags | ...).
import { UsageError } from '../../errors.js';
import type { Sys } from '../../sys/types.js';
import { readMemoryMap } from '../memory/memmap.js';
import { type BzImage64LoadOptions, type KexecPlan, planBzImage64Load } from './bzimage64-load.js';
import { readInheritedBootParams } from './running.js';

export type X86_64LoadRequest = Omit<BzImage64LoadOptions, 'memmap' | 'crash'> & { crash?: boolean };

export function planX86_64KexecLoad(sys: Sys, req: X86_64LoadRequest): KexecPlan {
  if (req.crash) {
    throw new UsageError('kexec_load (-c) with -p is not implemented in kexec-ts yet', {
      hint: 'load the crash kernel with kexec_file_load (the default, or -s)',
    });
  }
  const inherited = readInheritedBootParams(sys);
  return planBzImage64Load({
    ...inherited,
    ...req,
    crash: false,
    memmap: readMemoryMap(sys),
  });
}
