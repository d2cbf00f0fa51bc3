// The one call kexecLoadPath needs on x86_64: read the machine's memory map, what boot_params should
// inherit and the EFI hand-off through `sys`, then plan. The caller runs sys.kexecLoad(plan.entry,
// plan.segments, plan.flags | ...).
import { UsageError } from '../../errors.js';
import type { Sys } from '../../sys/types.js';
import { readMemoryMap } from '../memory/memmap.js';
import { type BzImage64LoadOptions, type KexecPlan, planBzImage64Load } from './bzimage64-load.js';
import { readEfiHandoff } from './efi.js';
import { readInheritedBootParams } from './running.js';

export type X86_64LoadRequest = Omit<BzImage64LoadOptions, 'memmap' | 'crash' | 'efi'> & {
  crash?: boolean;
  /** false: no EFI hand-off even on an EFI system (kexec-tools --noefi). */
  efi?: boolean;
};

/**
 * Test-only: KEXEC_TS_TEST_CORRUPT_SEGMENT=<role> flips one byte of that segment after the digest is
 * taken, so the purgatory must find a mismatch (the lab test's corrupted case). Never set it otherwise.
 */
export const CORRUPT_ENV = 'KEXEC_TS_TEST_CORRUPT_SEGMENT';

/** The kernel clears the la57 cpu flag unless it runs with 5-level page tables (cpu/common.c). */
export function runsFiveLevel(sys: Pick<Sys, 'readText'>): boolean {
  const flags = /^flags\s*:(.*)$/m.exec(sys.readText('/proc/cpuinfo') ?? '')?.[1] ?? '';
  return flags.split(/\s+/).includes('la57');
}

export function planX86_64KexecLoad(sys: Sys, req: X86_64LoadRequest): KexecPlan {
  if (req.crash) {
    throw new UsageError('kexec_load (-c) with -p is not implemented in kexec-ts yet', {
      hint: 'load the crash kernel with kexec_file_load (the default, or -s)',
    });
  }
  const inherited = readInheritedBootParams(sys);
  const { efi: wantEfi, ...rest } = req;
  const probe = wantEfi === false ? { ok: false as const, reason: 'disabled' } : readEfiHandoff(sys);
  const plan = planBzImage64Load({
    ...inherited,
    fiveLevelPaging: runsFiveLevel(sys),
    ...rest,
    crash: false,
    efi: probe.ok ? probe.efi : undefined,
    memmap: readMemoryMap(sys),
  });
  if (!probe.ok) plan.efiNote = probe.reason;
  else if (!plan.efi) plan.efiNote = 'the image lacks XLF_EFI_KEXEC';
  const corrupt = process.env[CORRUPT_ENV];
  const victim = corrupt ? plan.layout.findIndex((l) => l.role === corrupt) : -1;
  if (victim >= 0) {
    const buf = plan.segments[victim]!.buf;
    buf[0] = buf[0]! ^ 0xff;
  }
  return plan;
}
