// NT_PRSTATUS notes ("CORE", type 1): one per CPU online at the crash. x86_64 layout of struct
// elf_prstatus (include/linux/elfcore.h, 336 bytes) and struct user_regs_struct
// (arch/x86/include/asm/user_64.h), whose order is the order of pr_reg.
import { bytes, defineStruct, i32, u16, u32, u64 } from '../binary/struct.js';

/** include/uapi/linux/elf.h */
export const NT_PRSTATUS = 1;

export const ElfPrstatusX86_64 = defineStruct('elf_prstatus', {
  si_signo: i32(0), // pr_info (struct elf_siginfo)
  si_code: i32(4),
  si_errno: i32(8),
  pr_cursig: u16(12),
  pr_sigpend: u64(16),
  pr_sighold: u64(24),
  pr_pid: i32(32),
  pr_ppid: i32(36),
  pr_pgrp: i32(40),
  pr_sid: i32(44),
  pr_utime: bytes(48, 16), // struct __kernel_old_timeval x4
  pr_stime: bytes(64, 16),
  pr_cutime: bytes(80, 16),
  pr_cstime: bytes(96, 16),
  pr_reg: bytes(112, 216), // elf_gregset_t: 27 x u64 in user_regs_struct order
  pr_fpvalid: u32(328),
});

export const UserRegsStruct = defineStruct('user_regs_struct', {
  r15: u64(0),
  r14: u64(8),
  r13: u64(16),
  r12: u64(24),
  rbp: u64(32),
  rbx: u64(40),
  r11: u64(48),
  r10: u64(56),
  r9: u64(64),
  r8: u64(72),
  rax: u64(80),
  rcx: u64(88),
  rdx: u64(96),
  rsi: u64(104),
  rdi: u64(112),
  orig_rax: u64(120),
  rip: u64(128),
  cs: u64(136),
  eflags: u64(144),
  rsp: u64(152),
  ss: u64(160),
  fs_base: u64(168),
  gs_base: u64(176),
  ds: u64(184),
  es: u64(192),
  fs: u64(200),
  gs: u64(208),
});
export type X86_64Regs = ReturnType<typeof UserRegsStruct.decode>;

export interface CpuState {
  /** Index of the note among the NT_PRSTATUS notes (the kernel writes them in CPU order). */
  index: number;
  /** pr_pid: the task running on that CPU (0 = idle). */
  pid: number;
  /** pr_cursig: the signal being delivered; unset for a panic. */
  signal: number;
  regs: X86_64Regs;
}

export function decodePrstatusX86_64(desc: Uint8Array, index: number): CpuState {
  const p = ElfPrstatusX86_64.decode(desc);
  return { index, pid: p.pr_pid, signal: p.pr_cursig, regs: UserRegsStruct.decode(p.pr_reg) };
}
