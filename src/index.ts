// Public library API of kexec-ts: the typed errors, the kernel interface (real and fake), image
// parsing and inspection, initramfs building, and the kexec operations the CLI is built from.
export * from './errors.js';
export * from './formats/index.js';
export * from './initramfs/index.js';
export { buildCmdline, type CmdlineRequest, removeParam, splitParams } from './kexec/cmdline.js';
export { crashKernelSize, hasCrashReservation } from './kexec/crash.js';
export { formatDoctor, runDoctor } from './kexec/doctor.js';
export { execLoaded, handOffToInit, readLoaded, requireLoaded } from './kexec/exec.js';
export { type LoadRequest, type LoadResult, loadKernel, unloadKernel } from './kexec/load.js';
export { type AddressRange, fromInclusive, range } from './range.js';
export { FakeSys, type FakeSysOptions, realSys } from './sys/index.js';
export { crashKernelRanges, type IomemResource, parseIomem } from './sys/iomem.js';
export * from './sys/types.js';
