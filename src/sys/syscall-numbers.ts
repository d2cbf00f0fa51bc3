// Raw syscall numbers for the three architectures kexec-ts supports. glibc has no wrapper for
// kexec_load/kexec_file_load, so they go through syscall(2) with these numbers.
import type { Arch } from './types.js';

export interface SyscallNumbers {
  kexec_load: number;
  kexec_file_load: number;
  memfd_create: number;
}

export const SYSCALL_NUMBERS: Readonly<Record<Arch, SyscallNumbers>> = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x86_64: { kexec_load: 246, kexec_file_load: 320, memfd_create: 319 },
  // include/uapi/asm-generic/unistd.h (__NR_kexec_load 104, __NR_kexec_file_load 294, __NR_memfd_create 279)
  aarch64: { kexec_load: 104, kexec_file_load: 294, memfd_create: 279 },
  riscv64: { kexec_load: 104, kexec_file_load: 294, memfd_create: 279 },
};

/** Node's process.arch to the kernel's name; undefined for architectures we do not drive. */
export function archFromNode(nodeArch: string = process.arch): Arch | undefined {
  switch (nodeArch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'riscv64':
      return 'riscv64';
    default:
      return undefined;
  }
}
