// One view of a dump, whatever its file format: the notes (NT_PRSTATUS per CPU, VMCOREINFO) and memory
// by physical and kernel virtual address. ElfVmcore (/proc/vmcore and copies of it) and KdumpVmcore
// (makedumpfile's kdump-compressed format, ours or makedumpfile's) implement it; `vmcore info`, `vmcore
// dmesg` and the log readers use only this.
import { FormatError } from '../errors.js';
import { openFlatReader } from './compressed/flat-reader.js';
import { KdumpVmcore } from './compressed/vmcore.js';
import type { CpuState } from './prstatus.js';
import type { RandomAccessReader } from './reader.js';
import { type KernelMemory, openElfVmcore, type VmcoreNote } from './vmcore-elf.js';
import type { Vmcoreinfo } from './vmcoreinfo.js';

export type { KernelMemory } from './vmcore-elf.js';

export interface Dump extends KernelMemory {
  readonly format: 'elf64' | 'kdump';
  readonly reader: RandomAccessReader;
  /** Architecture name as ELF_MACHINES spells it (x86_64, ...). */
  readonly arch: string | undefined;
  readonly littleEndian: boolean;
  readonly notes: VmcoreNote[];
  readonly cpus: CpuState[];
  readonly vmcoreinfo: Vmcoreinfo | undefined;
  /** `length` bytes of physical memory; pages a filtered dump left out read as zero. */
  readPhys(paddr: bigint, length: number): Uint8Array;
  /** The direct map's base (page_offset), when the dump tells it. */
  directMapBase(): bigint | undefined;
}

/** ELF magic (gABI e_ident) and the two makedumpfile signatures (diskdump_mod.h, IMPLEMENTATION). */
const ELF_MAGIC = '\x7fELF';
const KDUMP_MAGIC = 'KDUMP   ';
const FLAT_MAGIC = 'makedumpfile';

export function dumpKind(reader: RandomAccessReader): 'elf' | 'kdump' | 'flat' | undefined {
  const head = Buffer.from(reader.read(0, Math.min(reader.size, 16))).toString('latin1');
  if (head.startsWith(ELF_MAGIC)) return 'elf';
  if (head.startsWith(KDUMP_MAGIC)) return 'kdump';
  if (head.startsWith(FLAT_MAGIC)) return 'flat';
  return undefined;
}

/** Opens an ELF vmcore or a kdump-compressed file (also as a flattened -F stream) by its signature. */
export function openDump(reader: RandomAccessReader): Dump {
  const kind = dumpKind(reader);
  if (kind === 'elf') return openElfVmcore(reader);
  if (kind === 'kdump') return new KdumpVmcore(reader);
  if (kind === 'flat') return new KdumpVmcore(openFlatReader(reader));
  throw new FormatError('neither an ELF vmcore nor a kdump-compressed file', 'vmcore', 0, {
    hint: 'expected /proc/vmcore, a copy of it, or makedumpfile/kexec-ts kdump-compressed output',
  });
}
