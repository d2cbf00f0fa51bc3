// Building initramfs images from host files: the lab's guest and capture images (src/lab/initramfs.ts)
// and `kdump build-initrd` (src/kdump/service/initrd.ts). Above formats (the cpio records), below its
// users; the host is read, and ldd or busybox run, through Sys.
export { foreignPrebuild, kexecTsPackageDir, nodePlatform, runtimeDependencies } from './node-package.js';
export { type SharedLibrariesOptions, sharedLibraries } from './shared-libs.js';
export {
  type BinaryOptions,
  type CpioEntry,
  InitramfsTree,
  MULTIARCH_LIBDIR,
  type NodePackageOptions,
  type Owner,
} from './tree.js';
export {
  type ArchiveOptions,
  type Compression,
  encodeCpio,
  newcChunks,
  type WriteOptions,
  type WriteResult,
  writeCpio,
  writeCpioStream,
} from './write.js';
