// `kexec-ts vmcore info`: what a dump holds (layout, notes, CPU registers, VMCOREINFO summary, the
// panic line of the log), as plain data with addresses as hex strings so it prints as JSON.
import { KexecError } from '../errors.js';
import { type KernelLog, logLines, readKernelLog } from './dmesg/index.js';
import type { ElfVmcore } from './vmcore-elf.js';

const hex = (n: bigint) => `0x${n.toString(16)}`;
const signedHex = (n: bigint) => (n < 0n ? `-${hex(-n)}` : hex(n));
/** The last log line matching one of these is reported as the panic message. */
export const PANIC_PATTERNS = [/Kernel panic/, /sysrq: Trigger a crash/];

export interface VmcoreSummary {
  format: 'elf64';
  arch: string | undefined;
  size: number;
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

export function summarizeVmcore(vm: ElfVmcore, log?: KernelLog): VmcoreSummary {
  const info = vm.vmcoreinfo;
  const given = info?.numbers['PAGE_OFFSET'];
  const pageOffset = given === undefined ? vm.directMapBase() : BigInt.asUintN(64, given);
  return {
    format: 'elf64',
    arch: vm.arch,
    size: vm.reader.size,
    loads: vm.loads.map((s) => ({
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

function tryLog(vm: ElfVmcore): VmcoreSummary['log'] {
  if (!vm.vmcoreinfo) return { error: 'no VMCOREINFO note' };
  try {
    const log = readKernelLog({ mem: vm, le: vm.header.endian === 'le', info: vm.vmcoreinfo });
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
  out.push(`format:      ELF64 core (${s.arch ?? 'unknown arch'}), ${s.size} bytes`);
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
  out.push(`loads:       ${s.loads.length}`);
  out.push('  paddr              vaddr              offset       size');
  for (const l of s.loads) {
    out.push(`  ${l.paddr.padEnd(18)} ${l.vaddr.padEnd(18)} ${l.offset.padEnd(12)} ${l.memsz}`);
  }
  if ('error' in s.log) out.push(`log:         unreadable: ${s.log.error}`);
  else {
    out.push(`log:         ${s.log.format} ringbuffer, ${s.log.records} records`);
    out.push(`panic:       ${s.log.panic ?? '(no panic line found)'}`);
  }
  return `${out.join('\n')}\n`;
}
