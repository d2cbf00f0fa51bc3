// The lockless printk ringbuffer (5.10+, kernel/printk/printk_ringbuffer.h): a descriptor ring
// (prb_desc + printk_info arrays) and a text data ring. Struct offsets come from VMCOREINFO
// (log_buf_vmcoreinfo_setup in kernel/printk/printk.c), so no layout is assumed here.
import { LimitError } from '../../errors.js';
import type { LogRecord } from './record.js';
import { type LogSource, offset, pointerAt, read, size, symbol } from './source.js';

/** printk_ringbuffer.h: the top two bits of state_var are the state, the rest the descriptor id. */
const DESC_FLAGS_SHIFT = 62n;
const DESC_ID_MASK = (1n << DESC_FLAGS_SHIFT) - 1n;
const DESC_COMMITTED = 1n;
const DESC_FINALIZED = 2n;
/** Caps on count_bits and size_bits (CONFIG_LOG_BUF_SHIFT <= 25; log_buf_len= can go higher). */
const MAX_COUNT_BITS = 24;
const MAX_SIZE_BITS = 30;
/** Each data block starts with the id of its descriptor (an unsigned long). */
const BLK_ID_SIZE = 8;

export function readLockless(src: LogSource): LogRecord[] {
  const atomic = offset(src, 'atomic_long_t.counter');
  const rbAddr = pointerAt(src, symbol(src, 'prb'));
  const rb = read(src, rbAddr, size(src, 'printk_ringbuffer'), 'printk_ringbuffer');

  const dr = offset(src, 'printk_ringbuffer.desc_ring');
  const countBits = rb.u32(dr + offset(src, 'prb_desc_ring.count_bits'));
  if (countBits > MAX_COUNT_BITS) {
    throw new LimitError(`prb_desc_ring.count_bits is ${countBits}, above ${MAX_COUNT_BITS}`, 'vmcore');
  }
  const count = 2 ** countBits;
  const descSize = size(src, 'prb_desc');
  const infoSize = size(src, 'printk_info');
  const descs = read(src, rb.u64(dr + offset(src, 'prb_desc_ring.descs')), count * descSize, 'prb_desc[]');
  const infos = read(src, rb.u64(dr + offset(src, 'prb_desc_ring.infos')), count * infoSize, 'printk_info[]');
  const headId = rb.u64(dr + offset(src, 'prb_desc_ring.head_id') + atomic);
  const tailId = rb.u64(dr + offset(src, 'prb_desc_ring.tail_id') + atomic);

  const tr = offset(src, 'printk_ringbuffer.text_data_ring');
  const sizeBits = rb.u32(tr + offset(src, 'prb_data_ring.size_bits'));
  if (sizeBits > MAX_SIZE_BITS) {
    throw new LimitError(`prb_data_ring.size_bits is ${sizeBits}, above ${MAX_SIZE_BITS}`, 'vmcore');
  }
  const dataSize = 2 ** sizeBits;
  const text = read(src, rb.u64(tr + offset(src, 'prb_data_ring.data')), dataSize, 'text data ring');

  const o = {
    stateVar: offset(src, 'prb_desc.state_var') + atomic,
    lpos: offset(src, 'prb_desc.text_blk_lpos'),
    begin: offset(src, 'prb_data_blk_lpos.begin'),
    next: offset(src, 'prb_data_blk_lpos.next'),
    seq: offset(src, 'printk_info.seq'),
    ts: offset(src, 'printk_info.ts_nsec'),
    textLen: offset(src, 'printk_info.text_len'),
    caller: src.info.offsets['printk_info.caller_id'],
  };

  // head - tail < count on a sane ring; a corrupt pair must not make us loop 2^62 times.
  let id = tailId & DESC_ID_MASK;
  const head = headId & DESC_ID_MASK;
  if (((head - id) & DESC_ID_MASK) >= BigInt(count)) id = (head - BigInt(count - 1)) & DESC_ID_MASK;

  const out: LogRecord[] = [];
  for (;;) {
    const slot = Number(id % BigInt(count));
    const d = slot * descSize;
    const sv = descs.u64(d + o.stateVar);
    const state = sv >> DESC_FLAGS_SHIFT;
    if ((sv & DESC_ID_MASK) === id && (state === DESC_COMMITTED || state === DESC_FINALIZED)) {
      const i = slot * infoSize;
      const begin = Number(descs.u64(d + o.lpos + o.begin) % BigInt(dataSize));
      const next = Number(descs.u64(d + o.lpos + o.next) % BigInt(dataSize));
      let textLen = infos.u16(i + o.textLen);
      let start = 0;
      if (begin === next)
        textLen = 0; // data-less record (an empty line, or a failed reservation)
      else {
        start = (begin > next ? 0 : begin) + BLK_ID_SIZE; // a wrapped block's data starts at 0
        textLen = Math.max(0, Math.min(textLen, next - start));
      }
      const r: LogRecord = {
        seq: infos.u64(i + o.seq),
        tsNsec: infos.u64(i + o.ts),
        text: text.bytes(start, textLen),
      };
      if (o.caller !== undefined) r.callerId = infos.u32(i + o.caller);
      out.push(r);
    }
    if (id === head) break;
    id = (id + 1n) & DESC_ID_MASK;
  }
  return out;
}
