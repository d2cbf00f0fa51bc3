// makedumpfile's flattened format (-F; makedumpfile.h struct makedumpfile_data_header, makedumpfile.c
// write_buffer and rearrange_dumpdata) read in place: a RandomAccessReader of
// the kdump-compressed file the stream describes, without rearranging it (makedumpfile -R). One scan of
// the record headers builds a sorted map of where each byte of the logical file lies in the stream;
// records may overlap (a header rewritten at the end), and the later one wins, as when replaying them.
import { bounded } from '../../binary/bounds.js';
import { FormatError } from '../../errors.js';
import { checkRange, type RandomAccessReader } from '../reader.js';
import {
  END_FLAG_FLAT_HEADER,
  FLAT_DATA_HEADER_SIZE,
  FLAT_HEADER_BLOCK,
  MAKEDUMPFILE_SIGNATURE,
  MakedumpfileDataHeader,
  MakedumpfileHeader,
  TYPE_FLAT_HEADER,
} from './layout.js';

/** One piece of the logical file: [start, end) is at stream offset `at`. */
interface Piece {
  start: number;
  end: number;
  at: number;
}

/** Record count cap: makedumpfile writes one per buffer flush; 2^24 covers a multi-TiB dump. */
export const MAX_FLAT_RECORDS = 1 << 24;

export function openFlatReader(stream: RandomAccessReader): RandomAccessReader {
  const h = MakedumpfileHeader.decode(stream.read(0, MakedumpfileHeader.size));
  if (!h.signature.startsWith(MAKEDUMPFILE_SIGNATURE) || h.type !== TYPE_FLAT_HEADER) {
    throw new FormatError('not a flattened makedumpfile stream', 'kdump', 0);
  }
  let pieces: Piece[] = [];
  let size = 0;
  let ended = false;
  let at = FLAT_HEADER_BLOCK;
  for (let n = 0; at + FLAT_DATA_HEADER_SIZE <= stream.size; n++) {
    if (n >= MAX_FLAT_RECORDS) throw new FormatError(`more than ${MAX_FLAT_RECORDS} records`, 'kdump', at);
    const r = MakedumpfileDataHeader.decode(stream.read(at, FLAT_DATA_HEADER_SIZE));
    at += FLAT_DATA_HEADER_SIZE;
    if (r.offset === END_FLAG_FLAT_HEADER && r.buf_size === END_FLAG_FLAT_HEADER) {
      ended = true;
      break;
    }
    const start = bounded(r.offset, Number.MAX_SAFE_INTEGER, 'flattened record offset', 'kdump');
    const len = bounded(r.buf_size, 1 << 30, 'flattened record size', 'kdump');
    checkRange(at, len, stream.size, 'flattened record');
    if (len > 0) pieces = place(pieces, { start, end: start + len, at });
    size = Math.max(size, start + len);
    at += len;
  }
  if (!ended) {
    throw new FormatError('the flattened stream has no end marker (cut short)', 'kdump', at, {
      hint: 'the dump was interrupted while streaming; what arrived may still be rearranged with makedumpfile -R',
    });
  }
  return {
    size,
    read(offset, length) {
      checkRange(offset, length, size, 'flattened dump');
      const out = new Uint8Array(length);
      // first piece ending after offset
      let lo = 0;
      let hi = pieces.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (pieces[mid]!.end <= offset) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < pieces.length && pieces[i]!.start < offset + length; i++) {
        const p = pieces[i]!;
        const from = Math.max(p.start, offset);
        const to = Math.min(p.end, offset + length);
        out.set(stream.read(p.at + (from - p.start), to - from), from - offset); // gaps stay zero
      }
      return out;
    },
    close: stream.close?.bind(stream),
  };
}

/** Inserts `p` into the sorted, disjoint `pieces`, cutting away what it overlaps (later wins). */
function place(pieces: Piece[], p: Piece): Piece[] {
  const last = pieces.at(-1);
  if (!last || last.end <= p.start) {
    pieces.push(p); // the common case: records arrive in increasing offset order
    return pieces;
  }
  const out: Piece[] = [];
  let inserted = false;
  for (const q of pieces) {
    if (q.end <= p.start || q.start >= p.end) {
      if (!inserted && q.start >= p.end) {
        out.push(p);
        inserted = true;
      }
      out.push(q);
      continue;
    }
    if (q.start < p.start) out.push({ start: q.start, end: p.start, at: q.at });
    if (!inserted) {
      out.push(p);
      inserted = true;
    }
    if (q.end > p.end) out.push({ start: p.end, end: q.end, at: q.at + (p.end - q.start) });
  }
  if (!inserted) out.push(p);
  return out;
}
