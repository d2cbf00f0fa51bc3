// Property-based fuzzing with fast-check: any bytes, and any mutation (byte overwrites, truncation,
// inserted u32 lies) of real-shaped bzImage, ELF, PE/UKI, zboot and cpio headers, give a result or a
// typed KexecError from every entry point, never a RangeError/TypeError. A hang (an unbounded walk) is
// caught by the test timeout, not by timing each input: wall-clock bounds fail on a loaded CI machine.
// Bounded runs keep the whole file to a few seconds; FUZZ_SEED reproduces a failure.
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { KexecError } from '../../../src/errors.js';
import { Arm64ImageHeader } from '../../../src/formats/arm64/image.js';
import { extractVmlinux } from '../../../src/formats/bzimage/extract.js';
import { decompress } from '../../../src/formats/compress/decompress.js';
import { listInitramfs } from '../../../src/formats/cpio/initramfs.js';
import { inspectImage } from '../../../src/formats/inspect.js';
import { prepareKernel } from '../../../src/formats/probe.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { buildElf } from '../../helpers/build-elf.js';
import { buildUki, buildZboot } from '../../helpers/build-pe.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20250601);
const MAX_OUT = 1 << 20;

function total(bytes: Uint8Array): void {
  for (const run of [
    () => prepareKernel(bytes, 'x', MAX_OUT),
    () => inspectImage(bytes, 'x', { maxOutput: MAX_OUT, members: true }),
    () => listInitramfs(bytes, MAX_OUT),
    () => extractVmlinux(bytes, MAX_OUT),
    () => decompress(bytes, MAX_OUT),
  ]) {
    try {
      run();
    } catch (e) {
      if (!(e instanceof KexecError)) throw e;
    }
  }
}

const text = (s: string) => new TextEncoder().encode(s);
const kernel = buildBzImage({ kernelVersion: '6.1.0-fuzz', signed: true });
const arm = Arm64ImageHeader.encode(
  { code0: 0x5a4d, image_size: 0x1000n, magic: 'ARM\x64' },
  new Uint8Array(512),
);
const initrd = buildCpio([
  { name: 'init', data: text('#!/bin/sh\n') },
  { name: 'dev', mode: 0o40755 },
]);
const SEEDS: Record<string, Uint8Array> = {
  bzImage: kernel,
  elf: buildElf({ loads: 2, notes: [{ name: 'Xen', type: 1, desc: new Uint8Array(8) }] }).bytes,
  uki: buildUki({ linux: kernel, initrd, cmdline: 'quiet', osrel: 'PRETTY_NAME="x"\n', uname: '6.1' }),
  zboot: buildZboot(gzipSync(arm), 'gzip'),
  cpio: new Uint8Array([...buildCpio([{ name: 'kernel/x86/microcode/x.bin' }]), ...gzipSync(initrd)]),
};

/** A mutation: overwrite bytes, write a u32 "length" lie, or cut the file. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('u32' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x10000),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(base: Uint8Array, muts: Mutation[], span: number): Uint8Array {
  let b = base.slice();
  for (const m of muts) {
    const at = m.at % Math.min(span, b.byteLength || 1);
    if (m.kind === 'byte') b[at] = m.value;
    else if (m.kind === 'u32' && at + 4 <= b.byteLength) new DataView(b.buffer).setUint32(at, m.value, true);
    else if (m.kind === 'cut') b = b.slice(0, at);
  }
  return b;
}

// 120 s for the suite: far above a normal run (a few seconds) even on a loaded machine; a hang still fails.
describe('fast-check: parsers on hostile input', { timeout: 120_000 }, () => {
  it('any bytes, with and without a real magic in front', () => {
    const magic = fc.constantFrom(
      [],
      [0x1f, 0x8b, 8],
      [0x28, 0xb5, 0x2f, 0xfd],
      [0x02, 0x21, 0x4c, 0x18],
      [0x42, 0x5a, 0x68, 0x39],
      [0x7f, 0x45, 0x4c, 0x46, 2, 1],
      [0x4d, 0x5a],
      [0x4d, 0x5a, 0, 0, 0x7a, 0x69, 0x6d, 0x67],
      [0x30, 0x37, 0x30, 0x37, 0x30, 0x31],
    );
    fc.assert(
      fc.property(magic, fc.uint8Array({ maxLength: 4096 }), (m, rest) =>
        total(new Uint8Array([...m, ...rest])),
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  for (const [name, base] of Object.entries(SEEDS)) {
    it(`mutations of a ${name} (headers: first 2 KiB)`, () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) =>
          total(apply(base, muts, 2048)),
        ),
        { seed: SEED, numRuns: 150 },
      );
    });
  }
});
