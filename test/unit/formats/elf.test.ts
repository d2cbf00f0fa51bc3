import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormatError, KexecError, LimitError, TruncatedError } from '../../../src/errors.js';
import {
  decodeElfHeader,
  EM_AARCH64,
  ET_CORE,
  ET_DYN,
  encodeElfHeader,
} from '../../../src/formats/elf/ehdr.js';
import { encodeNotes, readNotes } from '../../../src/formats/elf/note.js';
import { decodeProgramHeaders, PT_NOTE, segmentBytes } from '../../../src/formats/elf/phdr.js';
import { parseElf, probeElfX86_64 } from '../../../src/formats/elf/probe.js';
import { buildElf, elfHeaderFor } from '../../helpers/build-elf.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('ELF header and program headers', () => {
  for (const cls of [32, 64] as const) {
    for (const endian of ['le', 'be'] as const) {
      it(`round-trips ELF${cls} ${endian}`, () => {
        const { bytes, header, phdrs } = buildElf({ class: cls, endian, loads: 3, entry: 0x1234_5678n });
        assert.deepEqual(decodeElfHeader(bytes), header);
        assert.deepEqual(decodeProgramHeaders(bytes, header), phdrs);
        assert.deepEqual(decodeElfHeader(encodeElfHeader(header)), header);
      });
    }
  }

  it('rejects bad magic, class and encoding with FormatError', () => {
    const { bytes } = buildElf();
    assert.throws(() => decodeElfHeader(new Uint8Array(64)), /bad ELF magic/);
    const badClass = bytes.slice();
    badClass[4] = 3;
    assert.throws(() => decodeElfHeader(badClass), FormatError);
    const badData = bytes.slice();
    badData[5] = 0;
    assert.throws(() => decodeElfHeader(badData), FormatError);
  });

  it('bounds e_phnum, e_phentsize and the table against the file', () => {
    const { bytes, header } = buildElf({ loads: 2 });
    assert.throws(() => decodeProgramHeaders(bytes, { ...header, e_phnum: 9000 }), LimitError);
    assert.throws(() => decodeProgramHeaders(bytes, { ...header, e_phentsize: 32 }), FormatError);
    assert.throws(() => decodeProgramHeaders(bytes.subarray(0, 64 + 56 * 2 - 1), header), TruncatedError);
    assert.throws(() => decodeProgramHeaders(bytes, { ...header, e_phoff: 1n << 60n }), TruncatedError);
  });
});

describe('ELF notes', () => {
  const notes = [
    { name: 'CORE', type: 1, desc: text('abcdefg') },
    { name: 'VMCOREINFO', type: 0, desc: text('OSRELEASE=6.1.0\n') },
    { name: 'Xen', type: 6, desc: new Uint8Array(0) },
  ];

  for (const endian of ['le', 'be'] as const) {
    it(`round-trips with 4-byte padding (${endian})`, () => {
      const bytes = encodeNotes(notes, endian);
      // 12 + pad(5) + pad(7) = 28; 12 + pad(11) + 16 = 40; 12 + 4 + 0 = 16.
      assert.equal(bytes.byteLength, 28 + 40 + 16);
      const back = readNotes(bytes, endian);
      assert.deepEqual(
        back.map(({ name, type, desc }) => ({ name, type, desc: Uint8Array.from(desc) })),
        notes,
      );
      assert.deepEqual(
        back.map((n) => n.offset),
        [0, 28, 68],
      );
    });
  }

  it('reads the PT_NOTE segment of an ELF', () => {
    const { bytes, header } = buildElf({ notes });
    const phdrs = decodeProgramHeaders(bytes, header);
    const seg = phdrs.find((p) => p.p_type === PT_NOTE)!;
    assert.deepEqual(
      readNotes(segmentBytes(bytes, seg), 'le').map((n) => n.name),
      ['CORE', 'VMCOREINFO', 'Xen'],
    );
  });

  it('stops at zero padding and bounds sizes', () => {
    const bytes = new Uint8Array([...encodeNotes(notes.slice(0, 1), 'le'), ...new Uint8Array(24)]);
    assert.equal(readNotes(bytes, 'le').length, 1);
    const huge = encodeNotes([{ name: 'X', type: 1, desc: new Uint8Array(4) }], 'le');
    new DataView(huge.buffer).setUint32(4, 0xffff_fff0, true);
    assert.throws(() => readNotes(huge, 'le'), TruncatedError);
    new DataView(huge.buffer).setUint32(0, 100_000, true);
    assert.throws(() => readNotes(huge, 'le'), LimitError);
  });
});

describe('probeElfX86_64', () => {
  it('accepts ET_EXEC and ET_DYN x86_64 ELF64', () => {
    assert.equal(probeElfX86_64(buildElf().bytes).ok, true);
    assert.equal(probeElfX86_64(buildElf({ type: ET_DYN }).bytes).ok, true);
  });

  it('explains each rejection', () => {
    const r = (bytes: Uint8Array) => {
      const p = probeElfX86_64(bytes);
      return p.ok ? 'ok' : p.reason;
    };
    assert.equal(r(new Uint8Array(100)), 'bad ELF magic');
    assert.match(r(buildElf({ machine: EM_AARCH64 }).bytes), /e_machine is 183 \(arm64\)/);
    assert.match(r(buildElf({ type: ET_CORE }).bytes), /e_type is 4/);
    assert.match(r(buildElf({ class: 32 }).bytes), /not ELFCLASS64/);
    assert.match(r(buildElf({ loads: 0 }).bytes), /no PT_LOAD/);
    assert.match(r(buildElf().bytes.subarray(0, 63)), /need/);
  });

  it('parseElf exposes the arch name', () => {
    assert.equal(parseElf(buildElf().bytes).arch, 'x86_64');
    assert.ok(elfHeaderFor({}, 0).e_phnum === 0);
    assert.ok(new FormatError('x', 'elf') instanceof KexecError);
  });
});
