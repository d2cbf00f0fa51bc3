// The kexec-tools option table (kexec/kexec.h KEXEC_OPTIONS and kexec/arch/i386/include/arch/options.h),
// plus kexec-ts' own additions: the options of kexec-ts itself (src/cli/root.ts). It drives parsing,
// --help, the man page kexec-ts(8) and the completions, like every command's table.
import type { OptionSpec } from './command.js';

export type OptionId =
  | 'help'
  | 'version'
  | 'debug'
  | 'force'
  | 'exec'
  | 'load'
  | 'unload'
  | 'load-panic'
  | 'type'
  | 'file-syscall'
  | 'kexec-syscall'
  | 'syscall-auto'
  | 'status'
  | 'no-ifdown'
  | 'no-sync'
  | 'no-checks'
  | 'mem-min'
  | 'mem-max'
  | 'entry'
  | 'command-line'
  | 'reuse-cmdline'
  | 'initrd'
  | 'real-mode'
  | 'elf32-core-headers'
  | 'elf64-core-headers'
  | 'print-ckr-size'
  | 'force-sync'
  | 'reuse-console'
  | 'json'
  | 'noefi'
  | 'require-signed'
  | 'trust-cert'
  | 'ignored';

export interface KexecOption extends OptionSpec {
  readonly id: OptionId;
  /** Listed in --help under this heading (root.ts names them). */
  readonly group: 'action' | 'general' | 'linux' | 'kexec-ts' | 'compat';
}

export const OPTIONS: readonly KexecOption[] = [
  { id: 'help', long: ['help'], short: 'h', help: 'Print this help and exit.', group: 'general' },
  { id: 'version', long: ['version'], short: 'v', help: 'Print the version and exit.', group: 'general' },
  {
    id: 'debug',
    long: ['debug'],
    short: 'd',
    help: 'Print what is loaded and each system call.',
    group: 'general',
  },
  {
    id: 'load',
    long: ['load'],
    short: 'l',
    help: 'Load KERNEL to be started later with -e (then sync).',
    group: 'action',
  },
  {
    id: 'load-panic',
    long: ['load-panic'],
    short: 'p',
    help: 'Load KERNEL as the crash (kdump) kernel, started on panic.',
    group: 'action',
  },
  {
    id: 'unload',
    long: ['unload'],
    short: 'u',
    help: 'Unload the kernel (with -p: the crash kernel).',
    group: 'action',
  },
  {
    id: 'exec',
    long: ['exec'],
    short: 'e',
    help: 'Start the loaded kernel now: sync, interfaces down, reboot(KEXEC).',
    group: 'action',
  },
  {
    id: 'force',
    long: ['force'],
    short: 'f',
    help: 'Load KERNEL and start it at once, without shutdown(8).',
    group: 'action',
  },
  {
    id: 'status',
    long: ['status'],
    short: 'S',
    help: 'Exit 1 if a crash kernel (with -l: a kernel) is loaded, 0 if not.',
    group: 'action',
  },
  {
    id: 'print-ckr-size',
    long: ['print-ckr-size'],
    help: 'Print the size of the crash kernel reservation.',
    group: 'action',
  },
  {
    id: 'type',
    long: ['type'],
    short: 't',
    arg: 'TYPE',
    help: 'Force the image type (kexec_load only).',
    group: 'general',
  },
  {
    id: 'file-syscall',
    long: ['kexec-file-syscall'],
    short: 's',
    help: 'Use kexec_file_load only.',
    group: 'general',
  },
  {
    id: 'kexec-syscall',
    long: ['kexec-syscall'],
    short: 'c',
    help: 'Use kexec_load only.',
    group: 'general',
  },
  {
    id: 'syscall-auto',
    long: ['kexec-syscall-auto'],
    short: 'a',
    help: 'Try kexec_file_load, fall back to kexec_load (default).',
    group: 'general',
  },
  {
    id: 'no-ifdown',
    long: ['no-ifdown'],
    short: 'x',
    help: 'Do not bring interfaces down on exec.',
    group: 'general',
  },
  { id: 'no-sync', long: ['no-sync'], short: 'y', help: 'Do not sync filesystems.', group: 'general' },
  {
    id: 'no-checks',
    long: ['no-checks'],
    short: 'i',
    help: 'Skip purgatory digest checks (kexec_load only).',
    group: 'general',
  },
  {
    id: 'mem-min',
    long: ['mem-min'],
    arg: 'ADDR',
    help: 'Lowest address for segments (kexec_load).',
    group: 'general',
  },
  {
    id: 'mem-max',
    long: ['mem-max'],
    arg: 'ADDR',
    help: 'Highest address for segments (kexec_load).',
    group: 'general',
  },
  {
    id: 'entry',
    long: ['entry'],
    arg: 'ADDR',
    help: 'Override the entry point (kexec_load).',
    group: 'general',
  },
  {
    id: 'command-line',
    long: ['command-line', 'append'],
    arg: 'STRING',
    help: 'Command line for the new kernel (--append is the same option; last wins).',
    group: 'linux',
  },
  {
    id: 'reuse-cmdline',
    long: ['reuse-cmdline'],
    help: 'Start from the running command line (minus BOOT_IMAGE=, and crashkernel= with -p).',
    group: 'linux',
  },
  {
    id: 'initrd',
    long: ['initrd', 'ramdisk'],
    arg: 'FILE',
    complete: 'initrd',
    help: 'Initial ramdisk for the new kernel.',
    group: 'linux',
  },
  {
    id: 'real-mode',
    long: ['real-mode'],
    help: 'Enter the kernel through its 16-bit entry (not supported yet).',
    group: 'linux',
  },
  {
    id: 'elf64-core-headers',
    long: ['elf64-core-headers'],
    help: 'ELF64 crash core headers (always used on x86_64).',
    group: 'linux',
  },
  {
    id: 'elf32-core-headers',
    long: ['elf32-core-headers'],
    help: 'ELF32 core headers (not on x86_64).',
    group: 'linux',
  },
  {
    id: 'force-sync',
    long: ['force-sync'],
    help: 'Sync before exec even if -y was given.',
    group: 'kexec-ts',
  },
  {
    id: 'reuse-console',
    long: ['reuse-console'],
    help: 'Carry console= from the running command line unless the new one sets its own.',
    group: 'kexec-ts',
  },
  { id: 'json', long: ['json'], help: 'Print data (status, debug plan) as JSON.', group: 'kexec-ts' },
  {
    id: 'noefi',
    long: ['noefi'],
    help: 'kexec_load: no EFI hand-off (efi_info, SETUP_EFI); the new kernel boots without EFI runtime services.',
    group: 'general',
  },
  {
    id: 'require-signed',
    long: ['require-signed'],
    help:
      'Refuse, before any system call, a kernel that is not validly signed by a trusted certificate (UEFI db, ' +
      'MokListRT, kernel keys, --trust-cert); see kexec-ts verify.',
    group: 'kexec-ts',
  },
  {
    id: 'trust-cert',
    long: ['trust-cert'],
    arg: 'PEM',
    complete: 'file',
    help: 'With --require-signed: also trust this certificate (PEM or DER); may be repeated.',
    group: 'kexec-ts',
  },
  // kexec-tools x86 options that only affect its kexec_load loaders: accepted so scripts keep working.
  {
    id: 'ignored',
    long: [
      'reset-vga',
      'console-vga',
      'console-serial',
      'pass-memmap-cmdline',
      'reuse-video-type',
      'entry-32bit',
      'args-linux',
      'args-elf',
      'args-none',
      'hotplug',
    ],
    help: 'kexec_load-only tuning options of kexec-tools: accepted, no effect on kexec_file_load.',
    group: 'compat',
  },
  {
    id: 'ignored',
    long: ['serial', 'serial-baud', 'module', 'dtb'],
    arg: 'VALUE',
    help: 'kexec_load-only options with a value: accepted, no effect on kexec_file_load.',
    group: 'compat',
  },
];
