// The one call kexecLoadPath needs on x86_64: read the machine's memory map, what boot_params should
// inherit and the EFI hand-off through `sys`, then plan. The caller runs sys.kexecLoad(plan.entry,
// plan.segments, plan.flags | ...).
import type { Sys } from '../../sys/types.js';
import { prepareKdump } from '../crash/plan.js';
import { readMemoryMap } from '../memory/memmap.js';
import { type BzImage64LoadOptions, type KexecPlan, planBzImage64Load } from './bzimage64-load.js';
import { readEdd } from './edd.js';
import { readEfiHandoff } from './efi.js';
import { planElfX86_64Load } from './elf-x86_64-load.js';
import { readInheritedBootParams } from './running.js';
import { screenInfoFromFramebuffer } from './screen-info.js';

export type X86_64LoadRequest = Omit<BzImage64LoadOptions, 'memmap' | 'kdump' | 'efi' | 'edd'> & {
  /** -p: a crash kernel (src/kexec/crash/plan.ts adds the ELF core headers, elfcorehdr= and the e820). */
  crash?: boolean;
  /** false: no EFI hand-off even on an EFI system (kexec-tools --noefi). */
  efi?: boolean;
  /** Which loader plans the image (the kexec-tools type name); default bzImage64. */
  loader?: X86_64Loader;
};

/** The x86_64 kexec_load loaders kexec-ts has, by kexec-tools type name. */
export const X86_64_LOADERS = {
  bzImage64: planBzImage64Load,
  'elf-x86_64': planElfX86_64Load,
} as const;
export type X86_64Loader = keyof typeof X86_64_LOADERS;

/** The kernel clears the la57 cpu flag unless it runs with 5-level page tables (cpu/common.c). */
export function runsFiveLevel(sys: Pick<Sys, 'readText'>): boolean {
  const flags = /^flags\s*:(.*)$/m.exec(sys.readText('/proc/cpuinfo') ?? '')?.[1] ?? '';
  return flags.split(/\s+/).includes('la57');
}

export function planX86_64KexecLoad(sys: Sys, req: X86_64LoadRequest): KexecPlan {
  const inherited = readInheritedBootParams(sys);
  const { efi: wantEfi, loader = 'bzImage64', crash, ...rest } = req;
  const kdump = crash ? prepareKdump(sys, req) : undefined;
  const probe = wantEfi === false ? { ok: false as const, reason: 'disabled' } : readEfiHandoff(sys);
  const fb = screenInfoFromFramebuffer(sys, inherited.screenInfo);
  const edd = readEdd(sys);
  const plan = X86_64_LOADERS[loader]({
    ...inherited,
    ...(fb.screenInfo ? { screenInfo: fb.screenInfo } : {}),
    fiveLevelPaging: runsFiveLevel(sys),
    ...rest,
    ...(kdump ? { cmdline: kdump.cmdline, kdump: kdump.kdump } : {}),
    efi: probe.ok ? probe.efi : undefined,
    edd: edd.ok ? edd.edd : undefined,
    memmap: kdump?.memmap ?? readMemoryMap(sys),
  });
  if (!probe.ok) plan.efiNote = probe.reason;
  else if (!plan.efi) plan.efiNote = `the ${loader} image lacks XLF_EFI_KEXEC`;
  plan.notes = [
    `screen_info: ${fb.note}`,
    edd.ok
      ? `edd: ${edd.edd.entries.length} drives, ${edd.edd.mbrSignatures.length} MBR signatures`
      : `edd: none (${edd.reason})`,
    ...(kdump?.describe ?? []),
  ];
  return plan;
}
