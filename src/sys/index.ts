// Entry point of the kernel door. `realSys()` builds the koffi-backed Sys on first use; koffi
// itself loads only on the first syscall (libc.ts).
import { RealSys } from './ffi.js';
import type { Sys } from './types.js';

export * from './errno.js';
export {
  type FakeCall,
  type FakeFailure,
  type FakeImage,
  type FakeMethod,
  FakeSys,
  type FakeSysOptions,
} from './fake.js';
export { CAP_SYS_BOOT, encodeSegmentTable, hasCapability, MFD_CLOEXEC, RealSys } from './ffi.js';
export * from './machine.js';
export { type FileWindow, MAP_PRIVATE, mapFileWindow, PROT_READ } from './mmap.js';
export { ifdownTargets } from './net.js';
export { archFromNode, SYSCALL_NUMBERS, type SyscallNumbers } from './syscall-numbers.js';
export * from './types.js';

let real: Sys | undefined;

/** The process-wide real Sys (lazy singleton). */
export function realSys(): Sys {
  real ??= new RealSys();
  return real;
}
