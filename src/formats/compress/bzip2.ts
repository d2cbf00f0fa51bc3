// bzip2 through seek-bzip (pure JavaScript, no native code), with our output cap: its output
// stream is ours, and it refuses to grow past `maxOutput`. The kernel's CONFIG_KERNEL_BZIP2 payload
// is one bzip2 stream ("BZh" + block size digit, bzip2's own format) followed by the size_append
// trailer; several concatenated streams (pbzip2) are decoded one after another.
import { createRequire } from 'node:module';
import { FormatError, KexecError, LimitError } from '../../errors.js';

interface OutStream {
  writeByte(b: number): void;
  write(buf: Uint8Array, off: number, len: number): number;
  flush(): void;
}
interface InStream {
  readByte(): number;
  read(buf: Uint8Array, off: number, len: number): number;
  seek(pos: number): void;
  eof(): boolean;
}
interface SeekBzip {
  decode(input: InStream, output: OutStream, multistream: boolean): void;
}

let seekBzip: SeekBzip | undefined;
function load(): SeekBzip {
  if (seekBzip === undefined) seekBzip = createRequire(import.meta.url)('seek-bzip') as SeekBzip;
  return seekBzip;
}

/** A growing byte sink that throws LimitError past `max`. */
class Sink implements OutStream {
  buf = new Uint8Array(1 << 16);
  pos = 0;
  constructor(private readonly max: number) {}
  private room(n: number): void {
    if (this.pos + n > this.max)
      throw new LimitError(`bzip2 output exceeds the ${this.max}-byte limit`, 'bzip2', undefined, {
        hint: 'the file may be a decompression bomb; raise the limit only for a file you trust',
      });
    if (this.pos + n <= this.buf.byteLength) return;
    const grown = new Uint8Array(Math.min(this.max, Math.max(this.pos + n, this.buf.byteLength * 2)));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }
  writeByte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }
  write(src: Uint8Array, off: number, len: number): number {
    this.room(len);
    this.buf.set(src.subarray(off, off + len), this.pos);
    this.pos += len;
    return len;
  }
  flush(): void {}
}

/** Reads `bytes`; reading past the end throws (seek-bzip would otherwise read zeros forever). */
function source(bytes: Uint8Array): InStream {
  let pos = 0;
  return {
    readByte() {
      if (pos >= bytes.byteLength)
        throw new FormatError('bzip2 data is truncated', 'bzip2', bytes.byteLength);
      return bytes[pos++]!;
    },
    read(buf: Uint8Array, off: number, len: number) {
      const n = Math.max(0, Math.min(len, bytes.byteLength - pos));
      buf.set(bytes.subarray(pos, pos + n), off);
      pos += n;
      return n === 0 && len > 0 ? -1 : n;
    },
    seek(p: number) {
      pos = p;
    },
    eof: () => pos >= bytes.byteLength,
  };
}

/** Decode bzip2 data; FormatError when corrupt, LimitError past `maxOutput`. */
export function bunzip2(bytes: Uint8Array, maxOutput: number): Uint8Array {
  const sink = new Sink(maxOutput);
  try {
    load().decode(source(bytes), sink, true);
  } catch (e) {
    if (e instanceof KexecError) throw e;
    throw new FormatError(
      `bzip2 data is corrupt: ${(e as Error)?.message ?? String(e)}`,
      'bzip2',
      undefined,
      {
        cause: e,
      },
    );
  }
  return sink.buf.subarray(0, sink.pos);
}
