// ELF notes (gABI "Note Section"): Elf_Nhdr {n_namesz, n_descsz, n_type} then the name and the
// descriptor, each padded to 4 bytes. Linux uses 4-byte padding for ELF64 too (elf.h Elf64_Nhdr
// has 32-bit fields; vmcore PT_NOTE segments follow it). kdump reuses this for /proc/vmcore.
import { bounded, slice } from '../../binary/bounds.js';
import { defineStruct, type Endian, u32 } from '../../binary/struct.js';
import { LimitError } from '../../errors.js';

const elfNhdr = (e: Endian) =>
  defineStruct('Elf_Nhdr', {
    n_namesz: u32(0, e),
    n_descsz: u32(4, e),
    n_type: u32(8, e),
  });
export const ElfNhdr = { le: elfNhdr('le'), be: elfNhdr('be') } as const;
export const NOTE_ALIGN = 4;
/** Caps: names are short ("CORE", "LINUX", "VMCOREINFO", "Xen"); notes per segment are few. */
export const MAX_NOTE_NAME = 256;
export const MAX_NOTES = 65536;

export interface ElfNote {
  /** The name without its terminating NUL. */
  name: string;
  type: number;
  /** A view into the input (no copy). */
  desc: Uint8Array;
  /** Offset of the note header inside the input. */
  offset: number;
}

const align = (n: number) => Math.ceil(n / NOTE_ALIGN) * NOTE_ALIGN;

/** Iterate the notes of a PT_NOTE segment or SHT_NOTE section. Stops at a trailing all-zero header. */
export function* iterateNotes(data: Uint8Array, endian: Endian): Generator<ElfNote> {
  const t = ElfNhdr[endian];
  let at = 0;
  let count = 0;
  while (at + t.size <= data.byteLength) {
    const n = t.decode(data, at);
    if (n.n_namesz === 0 && n.n_descsz === 0 && n.n_type === 0) return; // zero padding at the end
    if (++count > MAX_NOTES) throw new LimitError(`more than ${MAX_NOTES} ELF notes`, 'elf', at);
    const namesz = bounded(n.n_namesz, MAX_NOTE_NAME, 'n_namesz', 'elf');
    const nameBytes = slice(data, at + t.size, namesz, 'Elf_Nhdr.name');
    const descAt = at + t.size + align(namesz);
    const desc = slice(data, descAt, n.n_descsz, 'Elf_Nhdr.desc');
    let name = '';
    for (const c of nameBytes) {
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    yield { name, type: n.n_type, desc, offset: at };
    at = descAt + align(n.n_descsz);
  }
}

export function readNotes(data: Uint8Array, endian: Endian): ElfNote[] {
  return [...iterateNotes(data, endian)];
}

/** Encode notes back to bytes with 4-byte padding (synthetic images, round trips). */
export function encodeNotes(
  notes: ReadonlyArray<Pick<ElfNote, 'name' | 'type' | 'desc'>>,
  endian: Endian,
): Uint8Array {
  const t = ElfNhdr[endian];
  const size = notes.reduce((s, n) => s + t.size + align(n.name.length + 1) + align(n.desc.byteLength), 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const n of notes) {
    t.encode({ n_namesz: n.name.length + 1, n_descsz: n.desc.byteLength, n_type: n.type }, out, at);
    for (let i = 0; i < n.name.length; i++) out[at + t.size + i] = n.name.charCodeAt(i) & 0xff;
    const descAt = at + t.size + align(n.name.length + 1);
    out.set(n.desc, descAt);
    at = descAt + align(n.desc.byteLength);
  }
  return out;
}
