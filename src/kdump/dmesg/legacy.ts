// The pre-3.5 log: log_buf is plain text ("<level>[ts] message\n" lines) in a power-of-two ring;
// log_end counts every byte ever written and logged_chars how many are still in the ring.
import type { LogSource } from './source.js';
import { pointerAt, read, symbol } from './source.js';

export function readLegacy(src: LogSource): Uint8Array {
  const bufAddr = pointerAt(src, symbol(src, 'log_buf'));
  const bufLen = read(src, symbol(src, 'log_buf_len'), 4, 'log_buf_len').u32(0);
  const end = read(src, symbol(src, 'log_end'), 4, 'log_end').u32(0);
  const logged = read(src, symbol(src, 'logged_chars'), 4, 'logged_chars').u32(0);
  const buf = read(src, bufAddr, bufLen, 'log_buf').data;
  const n = Math.min(logged, bufLen, end);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = buf[(end - n + i) % bufLen]!;
  return out;
}
