// Whole-buffer decompression with a hard cap on the output (decompression bombs -> LimitError).
// gzip comes from node:zlib, which enforces the cap while inflating (maxOutputLength), and zstd from
// zstd.ts (node:zlib's or libzstd's, with the same cap).
// lz4 (legacy and frame formats) is our own decoder; bzip2 comes from seek-bzip (pure JS).
// xz and lzma come from @napi-rs/lzma (prebuilt, no compiler needed; see docs/formats.md), which has
// no output cap, so the size the file declares is checked first and the real size after.
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { FormatError, KexecError, LimitError } from '../../errors.js';
import { bunzip2 } from './bzip2.js';
import { type CompressionName, detectCompression } from './detect.js';
import { lz4FrameDecompress } from './lz4-frame.js';
import { lz4LegacyDecompress } from './lz4-legacy.js';
import { LZMA_SIZE_UNKNOWN, LzmaAloneHeader, xzStreams } from './xz-index.js';
import { zstdCodec } from './zstd.js';

/** Default output cap: 512 MiB, far above any real kernel or initramfs we expect to load. */
export const DEFAULT_MAX_OUTPUT = 512 * 1024 * 1024;

interface LzmaCodec {
  decompressSync(input: Uint8Array): Uint8Array;
}
interface LzmaModule {
  xz: LzmaCodec;
  lzma: LzmaCodec;
}
let lzmaModule: LzmaModule | undefined;
/** Loaded on first use: the native binding is only needed for xz/lzma input. */
function loadLzma(): LzmaModule {
  if (lzmaModule === undefined) {
    const require = createRequire(import.meta.url);
    lzmaModule = require('@napi-rs/lzma') as LzmaModule;
  }
  return lzmaModule;
}

function tooLarge(kind: string, maxOutput: number, cause?: unknown): LimitError {
  return new LimitError(`${kind} output exceeds the ${maxOutput}-byte limit`, kind, undefined, {
    cause,
    hint: 'the file may be a decompression bomb; raise the limit only for a file you trust',
  });
}

/** A plain Uint8Array view of a Buffer, so callers never depend on Buffer's extras. */
const plain = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** node:zlib reports an exceeded maxOutputLength as a RangeError with this code. */
function isBufferTooLarge(e: unknown): boolean {
  return e instanceof RangeError && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
}

function viaZlib(kind: string, maxOutput: number, run: (opts: zlib.ZlibOptions) => Uint8Array): Uint8Array {
  try {
    return plain(run({ maxOutputLength: maxOutput }));
  } catch (e) {
    if (isBufferTooLarge(e)) throw tooLarge(kind, maxOutput, e);
    throw new FormatError(`${kind} data is corrupt: ${(e as Error).message}`, kind, undefined, { cause: e });
  }
}

function lzmaCodec(kind: 'xz' | 'lzma'): LzmaCodec {
  try {
    return loadLzma()[kind];
  } catch (e) {
    throw new FormatError(`${kind} decoder unavailable: ${(e as Error).message}`, kind, undefined, {
      cause: e,
      hint: 'reinstall dependencies so the @napi-rs/lzma prebuilt binary for this platform is present',
    });
  }
}

function decodeOne(kind: 'xz' | 'lzma', codec: LzmaCodec, input: Uint8Array): Uint8Array {
  try {
    return plain(codec.decompressSync(input));
  } catch (e) {
    throw new FormatError(`${kind} data is corrupt: ${(e as Error).message}`, kind, undefined, { cause: e });
  }
}

/** xz: each stream on its own (the decoder rejects concatenated streams), sizes checked first. */
function viaXz(bytes: Uint8Array, maxOutput: number): Uint8Array {
  const streams = xzStreams(bytes);
  const declared = streams.reduce((sum, s) => sum + s.uncompressed, 0);
  if (declared > maxOutput) throw tooLarge('xz', maxOutput);
  const codec = lzmaCodec('xz');
  const parts = streams.map((s) => decodeOne('xz', codec, bytes.subarray(s.start, s.end)));
  const total = parts.reduce((sum, p) => sum + p.byteLength, 0);
  if (total > maxOutput) throw tooLarge('xz', maxOutput);
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** lzma-alone: the header may declare the size (or "unknown"); the real size is checked after. */
function viaLzmaAlone(bytes: Uint8Array, maxOutput: number): Uint8Array {
  const size = LzmaAloneHeader.decode(bytes).uncompressed_size;
  if (size !== LZMA_SIZE_UNKNOWN && size > BigInt(maxOutput)) throw tooLarge('lzma', maxOutput);
  const out = decodeOne('lzma', lzmaCodec('lzma'), bytes);
  if (out.byteLength > maxOutput) throw tooLarge('lzma', maxOutput);
  return out;
}

/**
 * Decompress a whole buffer. `kind` defaults to the format detected from the magic. Throws
 * FormatError for an unsupported or corrupt stream and LimitError when output would exceed `maxOutput`.
 */
export function decompress(
  bytes: Uint8Array,
  maxOutput: number = DEFAULT_MAX_OUTPUT,
  kind: CompressionName | undefined = detectCompression(bytes),
): Uint8Array {
  try {
    switch (kind) {
      // kexec-tools tries gzip, then zstd, then xz/lzma; here the magic picks one directly.
      case 'gzip':
        return viaZlib('gzip', maxOutput, (o) => zlib.gunzipSync(bytes, o));
      case 'zstd': {
        const z = zstdCodec(); // node:zlib's, else libzstd's; StateError when neither is there
        return viaZlib('zstd', maxOutput, (o) => z.decompress(bytes, o.maxOutputLength ?? maxOutput));
      }
      case 'xz':
        return viaXz(bytes, maxOutput);
      case 'lzma':
        return viaLzmaAlone(bytes, maxOutput);
      case 'lz4':
        return lz4LegacyDecompress(bytes, maxOutput);
      case 'lz4-frame':
        return lz4FrameDecompress(bytes, maxOutput);
      case 'bzip2':
        return bunzip2(bytes, maxOutput);
      default:
        throw new FormatError(
          kind === undefined
            ? 'data is not compressed in a known format'
            : `${kind} decompression is not supported`,
          kind ?? 'compressed',
          0,
          { hint: 'kexec-ts decodes gzip, zstd, xz, lzma, lz4 (legacy and frame) and bzip2' },
        );
    }
  } catch (e) {
    // Anything else a decoder throws on hostile input becomes a FormatError, never a raw error.
    if (e instanceof KexecError) throw e;
    throw new FormatError(`${kind} decompression failed: ${(e as Error).message}`, kind ?? 'compressed', 0, {
      cause: e,
    });
  }
}
