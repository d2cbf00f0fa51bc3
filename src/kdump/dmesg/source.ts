// What the log readers get: kernel memory by virtual address, the byte order, and VMCOREINFO.
import { LimitError } from '../../errors.js';
import type { Dump, KernelMemory } from '../dump.js';
import { need, type Vmcoreinfo } from '../vmcoreinfo.js';
import { FieldReader } from './record.js';

export interface LogSource {
  mem: KernelMemory;
  le: boolean;
  info: Vmcoreinfo;
}

/** The log source of a dump (ELF or kdump-compressed); undefined without VMCOREINFO. */
export function logSource(dump: Dump): LogSource | undefined {
  return dump.vmcoreinfo && { mem: dump, le: dump.littleEndian, info: dump.vmcoreinfo };
}

/** Largest buffer a log reader copies in one piece (text ring, descriptor arrays, log_buf). */
export const MAX_LOG_BYTES = 1 << 30;

export function read(src: LogSource, vaddr: bigint, length: number, what: string): FieldReader {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_LOG_BYTES) {
    throw new LimitError(`${what} is ${length} bytes, outside 0..${MAX_LOG_BYTES}`, 'vmcore');
  }
  return new FieldReader(src.mem.readVirt(vaddr, length), src.le, what);
}

export function pointerAt(src: LogSource, vaddr: bigint): bigint {
  return read(src, vaddr, 8, 'pointer').u64(0);
}

export const symbol = (src: LogSource, name: string) => need(src.info.symbols, 'SYMBOL', name);
export const size = (src: LogSource, name: string) => need(src.info.sizes, 'SIZE', name);
export const offset = (src: LogSource, name: string) => need(src.info.offsets, 'OFFSET', name);
