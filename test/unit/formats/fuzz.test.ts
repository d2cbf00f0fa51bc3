// Property test without extra dependencies: arbitrary bytes and single-byte mutations of a
// synthetic bzImage, ELF and cpio never make the parsers throw anything but a KexecError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KexecError } from '../../../src/errors.js';
import { inspectImage } from '../../../src/formats/inspect.js';
import { prepareKernel, probeImage } from '../../../src/formats/probe.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { buildElf } from '../../helpers/build-elf.js';

/** mulberry32: a small seeded PRNG so failures reproduce; the seed is printed on failure. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function onlyKexecErrors(bytes: Uint8Array, label: string): void {
  for (const run of [
    () => probeImage(bytes),
    () => prepareKernel(bytes, 'x', 1 << 20),
    () => inspectImage(bytes, 'x', { maxOutput: 1 << 20 }),
  ]) {
    try {
      run();
    } catch (e) {
      if (!(e instanceof KexecError)) assert.fail(`${label}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
}

const SEED = Number(process.env['FUZZ_SEED'] ?? 20240601);

describe('parsers on hostile input', () => {
  it('2000 random byte arrays', () => {
    const r = rng(SEED);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(r() ** 3 * 4096);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(r() * 256);
      // Half of them start with a real magic so deeper code runs.
      const magics = [
        [0x1f, 0x8b, 8],
        [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0],
        [0x28, 0xb5, 0x2f, 0xfd],
        [0x7f, 0x45, 0x4c, 0x46, 2, 1],
        [0x4d, 0x5a],
        [0x30, 0x37, 0x30, 0x37, 0x30, 0x31],
      ];
      if (i % 2 === 0) bytes.set(magics[i % magics.length]!.slice(0, len));
      onlyKexecErrors(bytes, `seed ${SEED} case ${i}`);
    }
  });

  it('2000 single-byte mutations of a synthetic bzImage header (and 500 each of ELF and cpio)', () => {
    const r = rng(SEED + 1);
    const bz = buildBzImage({ kernelVersion: '6.1.0-fuzz', signed: true });
    const mutate = (base: Uint8Array, span: number, n: number, what: string) => {
      for (let i = 0; i < n; i++) {
        const bytes = base.slice();
        const at = Math.floor(r() * Math.min(span, bytes.byteLength));
        bytes[at] = Math.floor(r() * 256);
        onlyKexecErrors(bytes, `seed ${SEED} ${what} mutation ${i} at 0x${at.toString(16)}`);
      }
    };
    // The interesting bytes: boot sector, PE header, setup header, version string (first 0x400).
    mutate(bz, 0x400, 2000, 'bzImage');
    mutate(
      buildElf({ loads: 3, notes: [{ name: 'Xen', type: 1, desc: new Uint8Array(8) }] }).bytes,
      512,
      500,
      'ELF',
    );
    mutate(buildCpio([{ name: 'init', data: new Uint8Array(10) }, { name: 'etc' }]), 512, 500, 'cpio');
  });
});
