// Fault injection from the test side: a Sys whose kexecLoad flips one byte of a segment after the plan
// took its digest, so the purgatory must refuse it. The compiled file imports nothing at run time, so the
// kexec_load lab test ships it into the guest as it is and runs kexec-ts's main() with it.
import type { KexecSegment, Sys } from '../../src/sys/types.js';

/**
 * `sys` with kexecLoad changed: the segment whose bytes begin with `match` (an initrd's) is passed on with
 * its first byte flipped; `onCorrupt` learns its index. Every other call goes to `sys` unchanged.
 */
export function corruptingSys(sys: Sys, match: Uint8Array, onCorrupt?: (index: number) => void): Sys {
  const holds = (s: KexecSegment) =>
    s.buf.byteLength >= match.byteLength &&
    Buffer.from(s.buf.buffer, s.buf.byteOffset, match.byteLength).equals(match);
  const kexecLoad = (entry: bigint, segments: readonly KexecSegment[], flags: number) => {
    const victim = segments.findIndex(holds);
    if (victim < 0) throw new Error(`corruptingSys: none of ${segments.length} segments holds the bytes`);
    const buf = segments[victim]!.buf.slice();
    buf[0] = buf[0]! ^ 0xff;
    onCorrupt?.(victim);
    sys.kexecLoad(
      entry,
      segments.map((s, i) => (i === victim ? { ...s, buf } : s)),
      flags,
    );
  };
  return new Proxy(sys, {
    get(target, key) {
      if (key === 'kexecLoad') return kexecLoad;
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
