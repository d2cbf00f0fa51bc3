// One kernel log record and its text form as kexec-tools' vmcore-dmesg prints it:
// "[%5llu.%06llu] " (seconds, microseconds of ts_nsec), the text with every byte that is neither
// printable nor white space in the C locale written as \xNN, then a newline.
import { TruncatedError } from '../../errors.js';

export interface LogRecord {
  /** printk_info.seq (lockless ring only). */
  seq?: bigint;
  /** Nanoseconds since boot (local_clock). */
  tsNsec: bigint;
  /** Raw text bytes, without the trailing newline printk strips. */
  text: Uint8Array;
  /** printk_info.caller_id: bit 31 set = CPU number, else task id (lockless ring only). */
  callerId?: number;
  /** The structured log's len == 0 wrap header, kept only because vmcore-dmesg prints it. */
  wrap?: true;
}

const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

export function escapeText(text: Uint8Array): string {
  let s = '';
  for (const c of text) {
    s += isPrint(c) || isSpace(c) ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

export function formatTimestamp(tsNsec: bigint): string {
  const sec = tsNsec / 1_000_000_000n;
  const usec = (tsNsec % 1_000_000_000n) / 1000n;
  return `[${sec.toString().padStart(5)}.${usec.toString().padStart(6, '0')}]`;
}

export function formatRecord(r: LogRecord): string {
  return `${formatTimestamp(r.tsNsec)} ${escapeText(r.text)}\n`;
}

/** Little/big-endian integer reads at offsets that come from VMCOREINFO, bounds-checked. */
export class FieldReader {
  private readonly view: DataView;
  constructor(
    readonly data: Uint8Array,
    private readonly le: boolean,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  private check(at: number, size: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + size > this.data.byteLength) {
      throw new TruncatedError(this.what, `+${at}`, at, size, this.data.byteLength);
    }
  }
  u16(at: number): number {
    this.check(at, 2);
    return this.view.getUint16(at, this.le);
  }
  u32(at: number): number {
    this.check(at, 4);
    return this.view.getUint32(at, this.le);
  }
  u64(at: number): bigint {
    this.check(at, 8);
    return this.view.getBigUint64(at, this.le);
  }
  bytes(at: number, length: number): Uint8Array {
    this.check(at, length);
    return this.data.subarray(at, at + length);
  }
}
