// `kexec-ts vmcore info|dmesg|save`: read or save a crash dump (kdump/command.ts, kdump/save/).
import { defineCommand, JSON_OPTION, type OperandSpec } from '../command.js';
import { VMCORE_SAVE } from './vmcore-save.js';

const DUMP = {
  name: 'FILE',
  arity: 'optional',
  default: '/proc/vmcore',
  complete: 'file',
  help: 'an ELF vmcore, or a kdump-compressed file or -F stream, any page compression',
} as const satisfies OperandSpec;

const VMCORE_INFO = defineCommand({
  name: 'info',
  summary: 'layout, notes, CPU registers, VMCOREINFO, panic line',
  description: ['Describe a crash dump without reading it whole.'],
  options: [JSON_OPTION],
  operands: [DUMP],
  run: async ({ json, FILE }, { io }) => {
    const { vmcoreShow } = await import('../../kdump/command.js');
    return vmcoreShow('info', { path: FILE, json }, io);
  },
});

const VMCORE_DMESG = defineCommand({
  name: 'dmesg',
  summary: 'the kernel log, formatted like vmcore-dmesg',
  description: ["The crashed kernel's log buffer, found through the symbols VMCOREINFO exports."],
  options: [{ ...JSON_OPTION, help: 'the records as a JSON array (seq, ts_nsec, caller_id, text)' }],
  operands: [DUMP],
  run: async ({ json, FILE }, { io }) => {
    const { vmcoreShow } = await import('../../kdump/command.js');
    return vmcoreShow('dmesg', { path: FILE, json }, io);
  },
});

export const VMCORE = defineCommand({
  name: 'vmcore',
  summary: 'read or save a crash dump (/proc/vmcore in a kdump capture kernel)',
  description: [
    'Read a crash dump without loading it whole, or save it as makedumpfile does. FILE and SRC default ' +
      'to /proc/vmcore (in a kdump capture kernel).',
  ],
  subcommands: [VMCORE_INFO, VMCORE_DMESG, VMCORE_SAVE],
  seeAlso: ['makedumpfile(8)', 'vmcore-dmesg(8)', 'crash(8)'],
});
