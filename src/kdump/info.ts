// `kexec-ts vmcore info`: what a dump holds (layout, notes, CPU registers, VMCOREINFO summary, the
// panic line of the log), as plain data with addresses as hex strings so it prints as JSON.
import { KexecError } from '../errors.js';
import { COMPRESSION_FLAG } from './compressed/codec.js';
import { DUMP_DH_COMPRESSED_INCOMPLETE } from './compressed/layout.js';
import { KdumpVmcore } from './compressed/vmcore.js';
import { type KernelLog, logLines, readKernelLog } from './dmesg/index.js';
import { logSource } from './dmesg/source.js';
import type { Dump } from './dump.js';
import { ElfVmcore } from './vmcore-elf.js';

const hex = (n: bigint) => `0x${n.toString(16)}`;
const signedHex = (n: bigint) => (n < 0n ? `-${hex(-n)}` : hex(n));
/** The last log line matching one of these is reported as the panic message. */
export const PANIC_PATTERNS = [/Kernel panic/, /sysrq: Trigger a crash/];

export interface VmcoreSummary {
  format: 'elf64' | 'kdump';
  arch: string | undefined;
  size: number;
  /** kdump-compressed files: the disk_dump_header / kdump_sub_header facts. */
  kdump?: {
    headerVersion: number;
    blockSize: number;
    compression: string;
    incomplete: boolean;
    dumpLevel: number;
    maxMapnr: number;
    dumpablePages: number;
    nrCpus: number;
    release: string;
    machine: string;
  };
  /** ELF only (a kdump-compressed file has no program headers). */
  loads: { paddr: string; vaddr: string; offset: string; filesz: string; memsz: string }[];
  notes: { name: string; type: number; size: number }[];
  cpus: { cpu: number; pid: number; rip: string; rsp: string; regs: Record<string, string> }[];
  osrelease: string | undefined;
  buildId: string | undefined;
  pageSize: number | undefined;
  crashTime: { epoch: number; iso: string } | undefined;
  kernelOffset: string | undefined;
  physBase: string | undefined;
  pageOffset: string | undefined;
  vmcoreinfo:
    | {
        entries: number;
        symbols: number;
        sizes: number;
        offsets: number;
        numbers: number;
        lengths: number;
        malformed: string[];
      }
    | undefined;
  log: { format: string; records: number; panic: string | undefined } | { error: string };
}

export function summarizeVmcore(vm: Dump, log?: KernelLog): VmcoreSummary {
  const info = vm.vmcoreinfo;
  const given = info?.numbers['PAGE_OFFSET'];
  const pageOffset = given === undefined ? vm.directMapBase() : BigInt.asUintN(64, given);
  return {
    format: vm.format,
    arch: vm.arch,
    size: vm.reader.size,
    ...(vm instanceof KdumpVmcore ? { kdump: kdumpFacts(vm) } : {}),
    loads: (vm instanceof ElfVmcore ? vm.loads : []).map((s) => ({
      paddr: hex(s.paddr),
      vaddr: hex(s.vaddr),
      offset: hex(s.offset),
      filesz: hex(s.filesz),
      memsz: hex(s.memsz),
    })),
    notes: vm.notes.map((n) => ({ name: n.name, type: n.type, size: n.desc.byteLength })),
    cpus: vm.cpus.map((c) => ({
      cpu: c.index,
      pid: c.pid,
      rip: hex(c.regs.rip),
      rsp: hex(c.regs.rsp),
      regs: Object.fromEntries(Object.entries(c.regs).map(([k, v]) => [k, hex(v)])),
    })),
    osrelease: info?.osrelease,
    buildId: info?.buildId,
    pageSize: info?.pageSize,
    crashTime:
      info?.crashTime === undefined ? undefined : { epoch: info.crashTime, iso: isoTime(info.crashTime) },
    kernelOffset: info?.kernelOffset === undefined ? undefined : hex(info.kernelOffset),
    physBase: info?.numbers['phys_base'] === undefined ? undefined : signedHex(info.numbers['phys_base']),
    pageOffset: pageOffset === undefined ? undefined : hex(pageOffset),
    vmcoreinfo: info && {
      entries: info.entries.length,
      symbols: Object.keys(info.symbols).length,
      sizes: Object.keys(info.sizes).length,
      offsets: Object.keys(info.offsets).length,
      numbers: Object.keys(info.numbers).length,
      lengths: Object.keys(info.lengths).length,
      malformed: info.malformed,
    },
    log: log ? { format: log.format, records: log.records.length, panic: panicLine(log) } : tryLog(vm),
  };
}

/** The compression a header status names (makedumpfile sets the file's algorithm bit there). */
export function compressionName(status: number): string {
  const found = Object.entries(COMPRESSION_FLAG).find(([, bit]) => bit !== 0 && status & bit);
  return found ? found[0] : 'none';
}

function kdumpFacts(vm: KdumpVmcore): NonNullable<VmcoreSummary['kdump']> {
  return {
    headerVersion: vm.header.header_version,
    blockSize: vm.header.block_size,
    compression: compressionName(vm.header.status),
    incomplete: (vm.header.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0,
    dumpLevel: vm.sub.dump_level,
    maxMapnr: vm.maxMapnr,
    dumpablePages: vm.dumpablePages,
    nrCpus: vm.header.nr_cpus,
    release: vm.utsname.release,
    machine: vm.utsname.machine,
  };
}

function tryLog(vm: Dump): VmcoreSummary['log'] {
  const src = logSource(vm);
  if (!src) return { error: 'no VMCOREINFO note' };
  try {
    const log = readKernelLog(src);
    return { format: log.format, records: log.records.length, panic: panicLine(log) };
  } catch (e) {
    if (e instanceof KexecError) return { error: e.message };
    throw e;
  }
}

/** CRASHTIME as ISO 8601; a value outside Date's range (a corrupt note) is reported, not thrown. */
function isoTime(epoch: number): string {
  const d = new Date(epoch * 1000);
  return Number.isNaN(d.getTime()) ? 'out of range' : d.toISOString();
}

export function panicLine(log: KernelLog): string | undefined {
  return logLines(log).findLast((l) => PANIC_PATTERNS.some((re) => re.test(l)));
}

export function formatSummary(s: VmcoreSummary): string {
  const out: string[] = [];
  if (s.kdump) {
    const k = s.kdump;
    out.push(
      `format:      kdump-compressed v${k.headerVersion} (${s.arch ?? 'unknown arch'}), ${s.size} bytes`,
    );
    out.push(
      `kdump:       ${k.compression} pages, dump level ${k.dumpLevel}, ${k.dumpablePages} of max_mapnr ${k.maxMapnr} pfns dumped, block ${k.blockSize}${k.incomplete ? ', INCOMPLETE' : ''}`,
    );
  } else out.push(`format:      ELF64 core (${s.arch ?? 'unknown arch'}), ${s.size} bytes`);
  out.push(`osrelease:   ${s.osrelease ?? '(none)'}`);
  if (s.crashTime) out.push(`crash time:  ${s.crashTime.iso} (${s.crashTime.epoch})`);
  if (s.kernelOffset) out.push(`kaslr:       KERNELOFFSET=${s.kernelOffset} phys_base=${s.physBase ?? '?'}`);
  if (s.pageOffset) out.push(`direct map:  ${s.pageOffset}`);
  if (s.vmcoreinfo) {
    const v = s.vmcoreinfo;
    out.push(
      `vmcoreinfo:  ${v.entries} keys (${v.symbols} SYMBOL, ${v.sizes} SIZE, ${v.offsets} OFFSET, ${v.numbers} NUMBER, ${v.lengths} LENGTH)${v.malformed.length ? `, ${v.malformed.length} malformed` : ''}`,
    );
  }
  out.push(`notes:       ${s.notes.map((n) => `${n.name}/${n.type} (${n.size})`).join(', ')}`);
  out.push(`cpus:        ${s.cpus.length}`);
  for (const c of s.cpus) out.push(`  cpu ${c.cpu}: pid ${c.pid} rip ${c.rip} rsp ${c.rsp}`);
  if (!s.kdump) {
    out.push(`loads:       ${s.loads.length}`);
    out.push('  paddr              vaddr              offset       size');
    for (const l of s.loads) {
      out.push(`  ${l.paddr.padEnd(18)} ${l.vaddr.padEnd(18)} ${l.offset.padEnd(12)} ${l.memsz}`);
    }
  }
  if ('error' in s.log) out.push(`log:         unreadable: ${s.log.error}`);
  else {
    out.push(`log:         ${s.log.format} ringbuffer, ${s.log.records} records`);
    out.push(`panic:       ${s.log.panic ?? '(no panic line found)'}`);
  }
  return `${out.join('\n')}\n`;
}
