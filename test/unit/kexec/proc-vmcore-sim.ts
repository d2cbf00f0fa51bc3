// What a capture kernel makes of our ELF core headers, so the host can read them back with src/kdump:
// fs/proc/vmcore.c builds it (parse_crash_elf64_headers, merge_note_headers_elf64, process_ptload_program_headers_elf64). The PT_NOTEs are read from the old memory,
// trimmed to their notes and merged into one PT_NOTE after the page-rounded headers; every PT_LOAD is
// laid out from the page below its start to the page above its end, p_offset rewritten to the file.
import { decodeElfHeader, encodeElfHeader } from '../../../src/formats/elf/ehdr.js';
import { iterateNotes } from '../../../src/formats/elf/note.js';
import {
  decodeProgramHeaders,
  type ElfPhdr,
  encodeProgramHeaders,
  PT_LOAD,
  PT_NOTE,
} from '../../../src/formats/elf/phdr.js';
import type { RandomAccessReader } from '../../../src/kdump/reader.js';

const PAGE = 0x1000n;
const up = (n: bigint) => ((n + PAGE - 1n) / PAGE) * PAGE;
const down = (n: bigint) => (n / PAGE) * PAGE;

/** Sparse physical memory: blobs at addresses, zeros elsewhere. */
export class OldMemory {
  readonly blobs: Array<{ at: bigint; bytes: Uint8Array }> = [];
  put(at: bigint, bytes: Uint8Array): void {
    this.blobs.push({ at, bytes });
  }
  read(paddr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (const b of this.blobs) {
      const from = b.at > paddr ? b.at : paddr;
      const to =
        b.at + BigInt(b.bytes.length) < paddr + BigInt(length)
          ? b.at + BigInt(b.bytes.length)
          : paddr + BigInt(length);
      if (to > from) out.set(b.bytes.subarray(Number(from - b.at), Number(to - b.at)), Number(from - paddr));
    }
    return out;
  }
}

/** A RandomAccessReader over the /proc/vmcore the capture kernel would present. */
export function procVmcore(elfcorehdr: Uint8Array, mem: OldMemory): RandomAccessReader {
  const h = decodeElfHeader(elfcorehdr);
  const phdrs = decodeProgramHeaders(elfcorehdr, h);
  const notes: Uint8Array[] = [];
  for (const p of phdrs.filter((q) => q.p_type === PT_NOTE)) {
    const raw = mem.read(p.p_paddr, Number(p.p_memsz));
    let real = 0;
    for (const n of iterateNotes(raw, 'le'))
      real = n.offset + 12 + Math.ceil((n.name.length + 1) / 4) * 4 + Math.ceil(n.desc.length / 4) * 4;
    notes.push(raw.subarray(0, real));
  }
  const noteBytes = Buffer.concat(notes);
  const loads = phdrs.filter((p) => p.p_type === PT_LOAD);
  const headerSize = up(BigInt(64 + (1 + loads.length) * 56));
  let off = headerSize + up(BigInt(noteBytes.length));
  const pieces: Array<{ fileAt: bigint; paddr: bigint; size: bigint }> = [];
  const out: ElfPhdr[] = [
    {
      p_type: PT_NOTE,
      p_flags: 0,
      p_offset: headerSize,
      p_vaddr: 0n,
      p_paddr: 0n,
      p_filesz: BigInt(noteBytes.length),
      p_memsz: BigInt(noteBytes.length),
      p_align: 0n,
    },
  ];
  for (const p of loads) {
    const start = down(p.p_paddr);
    const end = up(p.p_paddr + p.p_memsz);
    out.push({ ...p, p_offset: off + (p.p_paddr - start) });
    pieces.push({ fileAt: off, paddr: start, size: end - start });
    off += end - start;
  }
  const head = new Uint8Array(Number(headerSize));
  const header = { ...h, e_phnum: out.length };
  encodeElfHeader(header, head);
  encodeProgramHeaders(out, header, head);
  const size = Number(off);
  return {
    size,
    read(offset, length) {
      const res = new Uint8Array(length);
      const o = BigInt(offset);
      const e = o + BigInt(length);
      const copy = (src: Uint8Array, at: bigint) => {
        const from = at > o ? at : o;
        const to = at + BigInt(src.length) < e ? at + BigInt(src.length) : e;
        if (to > from) res.set(src.subarray(Number(from - at), Number(to - at)), Number(from - o));
      };
      copy(head, 0n);
      copy(noteBytes, headerSize);
      for (const p of pieces) {
        const from = p.fileAt > o ? p.fileAt : o;
        const to = p.fileAt + p.size < e ? p.fileAt + p.size : e;
        if (to > from) res.set(mem.read(p.paddr + (from - p.fileAt), Number(to - from)), Number(from - o));
      }
      return res;
    },
  };
}
