// The zero-page test of dump level bit 1, shared by both writers. Most dumped pages are not zero and
// differ from zero in their first bytes, so four 32-bit words read in JS decide them; only a page that
// starts with 16 zero bytes is compared whole (Buffer.compare, a native call: one per page cost
// ~0.5-1 µs, 40 ms of `save -E -d 31` on the lab's 1.3 GB dump, docs/kdump.md).

/** 32-bit words over `bytes` when it is 4-byte aligned (an mmap window or a buffer of ours always is). */
export function wordsOf(bytes: Uint8Array): Int32Array | undefined {
  return bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
    : undefined;
}

/** Whether the page at byte `off` of `src` (`words` its wordsOf) equals `zero`, an all-zero page. */
export function isZeroPage(src: Buffer, words: Int32Array | undefined, off: number, zero: Buffer): boolean {
  if (words !== undefined) {
    const w = off >> 2;
    if ((words[w]! | words[w + 1]! | words[w + 2]! | words[w + 3]!) !== 0) return false;
  }
  return src.compare(zero, 0, zero.byteLength, off, off + zero.byteLength) === 0;
}
