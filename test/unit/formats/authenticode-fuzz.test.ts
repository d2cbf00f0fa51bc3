// Property tests for the Authenticode parsers: any mutation of a real signature (Debian's PKCS#7 from
// the signed 6.12 kernel) and of the PE headers and certificate table gives a result or a typed
// KexecError, never a RangeError/TypeError or an exception from the ASN.1 library. FUZZ_SEED reproduces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KexecError } from '../../../src/errors.js';
import { parseAuthenticode, parsePkcs7 } from '../../../src/formats/pe/authenticode.js';
import { parsePe } from '../../../src/formats/pe/pe.js';
import { verifyImageSignature } from '../../../src/formats/pe/verify-signature.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261207);
const image = new Uint8Array(readFileSync('test/fixtures/real/vmlinuz-6.12.107+deb12-cloud-amd64'));
const pe = parsePe(image)!;
const p7 = image.slice(
  pe.certOffset + 8,
  pe.certOffset + Buffer.from(image.buffer, image.byteOffset + pe.certOffset, 4).readUInt32LE(0),
);

function typed(run: () => unknown): 'ok' | 'typed' {
  try {
    run();
    return 'ok';
  } catch (e) {
    if (e instanceof KexecError) return 'typed';
    throw e;
  }
}

const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });

describe('Authenticode fuzz', () => {
  it('the untouched signature parses', () => {
    assert.equal(
      typed(() => parsePkcs7(p7)),
      'ok',
    );
  });

  it('mutated PKCS#7 DER: a result or a typed error', () => {
    fc.assert(
      fc.property(
        fc.array(edit, { minLength: 1, maxLength: 8 }),
        fc.nat({ max: p7.length }),
        (edits, cut) => {
          const b = p7.slice(0, Math.max(cut, p7.length - 64 * (cut % 2)));
          for (const e of edits) b[e.at % b.length] = e.value;
          typed(() => parsePkcs7(b));
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('mutated headers and certificate table of the whole image: a verdict, never a throw', () => {
    const regions = [
      [0, 0x400],
      [pe.certOffset, image.length - pe.certOffset],
    ] as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 1 }), edit), { minLength: 1, maxLength: 6 }), (edits) => {
        const b = new Uint8Array(image);
        for (const [r, e] of edits) {
          const [start, len] = regions[r]!;
          b[start + (e.at % len)] = e.value;
        }
        const report = verifyImageSignature(b, []);
        assert.ok(
          ['valid', 'unsigned', 'bad-digest', 'bad-signature', 'untrusted', 'malformed', 'not-pe'].includes(
            report.verdict,
          ),
        );
        const mutated = parsePe(b);
        if (mutated?.signed) typed(() => parseAuthenticode(b, mutated.certOffset, mutated.certSize));
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
