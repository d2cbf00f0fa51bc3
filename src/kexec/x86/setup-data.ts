// The e820 map and the setup_data chain handed to the new kernel in boot_params.
import type { MemoryRange } from '../memory/ranges.js';
import {
  E820_ENTRY_SIZE,
  E820_MAX_ENTRIES_ZEROPAGE,
  E820_TYPE_OF,
  E820Entry,
  SETUP_DATA_HEADER_SIZE,
  SETUP_E820_EXT,
  SetupDataHeader,
} from './boot-params.js';

export interface E820Tables {
  /** boot_params.e820_entries. */
  entries: number;
  /** boot_params.e820_table: the first 128 entries (0xa00 bytes). */
  table: Uint8Array;
  /** SETUP_E820_EXT data for entries past 128, if any (arch/x86/kernel/e820.c e820__memory_setup_extended). */
  ext: Uint8Array | undefined;
}

export function encodeE820(ranges: readonly MemoryRange[]): E820Tables {
  const all = new Uint8Array(ranges.length * E820_ENTRY_SIZE);
  ranges.forEach((r, i) => {
    E820Entry.encode(
      { addr: r.start, size: r.end - r.start, type: E820_TYPE_OF[r.type] },
      all,
      i * E820_ENTRY_SIZE,
    );
  });
  const cut = E820_MAX_ENTRIES_ZEROPAGE * E820_ENTRY_SIZE;
  const table = new Uint8Array(cut);
  table.set(all.subarray(0, cut));
  return {
    entries: Math.min(ranges.length, E820_MAX_ENTRIES_ZEROPAGE),
    table,
    ext: ranges.length > E820_MAX_ENTRIES_ZEROPAGE ? all.slice(cut) : undefined,
  };
}

export interface SetupDataItem {
  type: number;
  data: Uint8Array;
}

export interface SetupDataChain {
  bytes: Uint8Array;
  /** Physical address of each item's header, in order; the first goes into hdr.setup_data. */
  addresses: bigint[];
}

/** Items are 8-byte aligned (the u64 `next` of each header); the chain ends with next = 0. */
const ITEM_ALIGN = 8;
const itemSize = (item: SetupDataItem): number =>
  Math.ceil((SETUP_DATA_HEADER_SIZE + item.data.length) / ITEM_ALIGN) * ITEM_ALIGN;

export function setupDataSize(items: readonly SetupDataItem[]): number {
  return items.reduce((n, item) => n + itemSize(item), 0);
}

/** Lay out `items` contiguously as they will sit at physical address `base`, linked in order. */
export function encodeSetupData(items: readonly SetupDataItem[], base: bigint): SetupDataChain {
  const bytes = new Uint8Array(setupDataSize(items));
  const addresses: bigint[] = [];
  let at = 0;
  items.forEach((item, i) => {
    const size = itemSize(item);
    const next = i + 1 < items.length ? base + BigInt(at + size) : 0n;
    SetupDataHeader.encode({ next, type: item.type, len: item.data.length }, bytes, at);
    bytes.set(item.data, at + SETUP_DATA_HEADER_SIZE);
    addresses.push(base + BigInt(at));
    at += size;
  });
  return { bytes, addresses };
}

/** Walk a chain back (tests, `kexec -d` dumps): items in order with their addresses. */
export function decodeSetupData(bytes: Uint8Array, base: bigint): Array<SetupDataItem & { address: bigint }> {
  const out: Array<SetupDataItem & { address: bigint }> = [];
  let address = bytes.length > 0 ? base : 0n;
  while (address !== 0n && out.length < 64) {
    const at = Number(address - base);
    const h = SetupDataHeader.decode(bytes, at);
    const start = at + SETUP_DATA_HEADER_SIZE;
    out.push({ address, type: h.type, data: bytes.slice(start, start + h.len) });
    address = h.next;
  }
  return out;
}

export const e820ExtItem = (ext: Uint8Array): SetupDataItem => ({ type: SETUP_E820_EXT, data: ext });
