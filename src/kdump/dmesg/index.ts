// The kernel log of a dump, whichever of the three printk generations the crashed kernel used. The
// choice follows the symbols VMCOREINFO exports: prb (lockless), log_first_idx (structured), else legacy.
import type { Vmcoreinfo } from '../vmcoreinfo.js';
import { readLegacy } from './legacy.js';
import { readLockless } from './lockless.js';
import { escapeText, formatRecord, type LogRecord } from './record.js';
import type { LogSource } from './source.js';
import { readStructured } from './structured.js';

export type { LogRecord } from './record.js';
export { formatRecord, formatTimestamp } from './record.js';

export type LogFormat = 'lockless' | 'structured' | 'legacy';

export interface KernelLog {
  format: LogFormat;
  /** Records (lockless, structured); legacy logs have only `raw`. */
  records: LogRecord[];
  raw?: Uint8Array;
}

export function logFormat(info: Vmcoreinfo): LogFormat {
  if (info.symbols['prb'] !== undefined) return 'lockless';
  if (info.symbols['log_first_idx'] !== undefined) return 'structured';
  return 'legacy';
}

export function readKernelLog(src: LogSource): KernelLog {
  const format = logFormat(src.info);
  if (format === 'lockless') return { format, records: readLockless(src) };
  if (format === 'structured') return { format, records: readStructured(src) };
  return { format, records: [], raw: readLegacy(src) };
}

/** The log as vmcore-dmesg prints it (legacy text is printed as stored). */
export function formatKernelLog(log: KernelLog): string {
  if (log.raw) return Buffer.from(log.raw).toString('latin1');
  return log.records.map(formatRecord).join('');
}

/** One line per record (multi-line records split), escaped, without timestamps: for searching. */
export function logLines(log: KernelLog): string[] {
  if (log.raw) return Buffer.from(log.raw).toString('latin1').split('\n');
  return log.records.flatMap((r) => escapeText(r.text).split('\n'));
}
