// Public surface of the pure parsers: bytes in, typed values out (no fs, no FFI).
export { type Arm64Image, probeArm64Image } from './arm64/image.js';
export { type BzImage, parseBzImage } from './bzimage/parse.js';
export { probeBzImage, probeBzImage64 } from './bzimage/probe.js';
export * from './bzimage/setup-header.js';
export { DEFAULT_MAX_OUTPUT, decompress } from './compress/decompress.js';
export { type CompressionName, canDecompress, detectCompression } from './compress/detect.js';
export { type CpioSummary, isCpio, summarizeCpio } from './cpio/newc.js';
export { decodeElfHeader, type ElfHeader, encodeElfHeader, isElf } from './elf/ehdr.js';
export { type ElfNote, encodeNotes, iterateNotes, readNotes } from './elf/note.js';
export { decodeProgramHeaders, type ElfPhdr, encodeProgramHeaders, segmentBytes } from './elf/phdr.js';
export { type ElfImage, parseElf, probeElfX86_64 } from './elf/probe.js';
export { formatImageInfo, type ImageInfo, type InspectOptions, inspectImage } from './inspect.js';
export { type PeInfo, parsePe } from './pe/pe.js';
export {
  type ImageProbe,
  PROBES,
  type PreparedKernel,
  type Probe,
  type ProbeMatch,
  type ProbeReport,
  prepareKernel,
  probeAll,
  probeImage,
} from './probe.js';
