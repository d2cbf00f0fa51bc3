// The structured printk log (3.5 to 5.9, kernel/printk/printk.c before the lockless ring): log_buf holds
// variable-length records {u64 ts_nsec; u16 len; u16 text_len; u16 dict_len; ...} + text + dict, walked
// from log_first_idx to log_next_idx; a record with len == 0 means "continue at offset 0".
import { FormatError } from '../../errors.js';
import type { LogRecord } from './record.js';
import { type LogSource, offset, pointerAt, read, symbol } from './source.js';

export function readStructured(src: LogSource): LogRecord[] {
  // Kernels before 3.11 named the struct `log` instead of `printk_log`.
  const t = src.info.sizes['printk_log'] !== undefined ? 'printk_log' : 'log';
  const recSize = src.info.sizes[t];
  if (recSize === undefined) throw new FormatError('VMCOREINFO has no SIZE(printk_log)', 'vmcore');
  const oTs = offset(src, `${t}.ts_nsec`);
  const oLen = offset(src, `${t}.len`);
  const oTextLen = offset(src, `${t}.text_len`);

  const bufAddr = pointerAt(src, symbol(src, 'log_buf'));
  const bufLen = read(src, symbol(src, 'log_buf_len'), 4, 'log_buf_len').u32(0);
  const first = read(src, symbol(src, 'log_first_idx'), 4, 'log_first_idx').u32(0);
  const next = read(src, symbol(src, 'log_next_idx'), 4, 'log_next_idx').u32(0);
  const buf = read(src, bufAddr, bufLen, 'log_buf');

  const out: LogRecord[] = [];
  let idx = first;
  let wrapped = false;
  // Each record is at least recSize bytes, so a sane walk ends within bufLen / recSize + 2 steps.
  for (let steps = 0; idx !== next; steps++) {
    if (steps > bufLen / Math.max(recSize, 1) + 2) {
      throw new FormatError('printk log records do not lead from log_first_idx to log_next_idx', 'vmcore');
    }
    const len = buf.u16(idx + oLen);
    if (len === 0) {
      if (wrapped) throw new FormatError('printk log wraps twice: corrupt log_buf', 'vmcore', idx);
      // vmcore-dmesg prints the (zeroed) wrap header as an empty record; so do we, for identical output.
      out.push({ tsNsec: buf.u64(idx + oTs), text: new Uint8Array(0), wrap: true });
      wrapped = true;
      idx = 0;
      continue;
    }
    const textLen = buf.u16(idx + oTextLen);
    out.push({ tsNsec: buf.u64(idx + oTs), text: buf.bytes(idx + recSize, textLen) });
    idx += len;
  }
  return out;
}
