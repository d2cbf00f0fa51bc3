// The lab's cpio writer is the generic one in src/formats/cpio/writer.ts (shared with
// `kexec-ts kdump build-initrd`); this module keeps the lab's import path.
export { type CpioEntry, writeCpio, writeCpioStream } from '../formats/cpio/writer.js';
