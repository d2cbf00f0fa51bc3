// A vmcore save Sink that keeps the written file in memory, for tests that read it back.
import type { Sink } from '../../src/kdump/save/sink.js';

export function memorySink(): Sink & { bytes(): Uint8Array } {
  let buf = new Uint8Array(1 << 20);
  let size = 0;
  return {
    written: 0,
    stream: false,
    pwrite(data, offset) {
      if (offset + data.byteLength > buf.byteLength) {
        const next = new Uint8Array(Math.max(buf.byteLength * 2, offset + data.byteLength));
        next.set(buf);
        buf = next;
      }
      buf.set(data, offset);
      size = Math.max(size, offset + data.byteLength);
    },
    commit() {},
    abort: () => undefined,
    bytes: () => buf.slice(0, size),
  };
}
