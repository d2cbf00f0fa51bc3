// From parsed options to what will run. The action flags are set exactly as kexec-tools' main() sets
// them, each option overriding the earlier ones (kexec/kexec.c); then kexec-ts refuses the combinations
// where kexec-tools silently does something surprising (docs/cli.md, "Differences from kexec-tools").
import { UsageError } from '../errors.js';
import type { SyscallChoice } from '../kexec/load.js';
import type { ParsedArgv } from './parse-argv.js';

export interface Invocation {
  mode: 'help' | 'version' | 'status' | 'print-ckr-size' | 'run';
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  reuseCmdline: boolean;
  reuseConsole: boolean;
  crash: boolean;
  /** -S -l: report the normal image instead of the crash image. */
  statusOfNormal: boolean;
  unload: boolean;
  load: boolean;
  /** Hand over to the init system after loading (plain `kexec-ts KERNEL`). */
  shutdown: boolean;
  sync: boolean;
  ifdown: boolean;
  exec: boolean;
  syscall: SyscallChoice;
  debug: boolean;
  json: boolean;
  type?: string | undefined;
  noChecks: boolean;
  /** --noefi: no EFI hand-off on the kexec_load path (kexec-tools x86 --noefi). */
  noEfi?: boolean | undefined;
  memMin?: bigint | undefined;
  memMax?: bigint | undefined;
  /** --require-signed: refuse an unsigned or untrusted kernel before any syscall. */
  requireSigned: boolean;
  /** --trust-cert PEM (repeatable): certificates trusted for --require-signed. */
  trustCerts: string[];
  notes: string[];
}

/** kexec-tools reads addresses with strtoul(..., 0): 0x hex or decimal. */
function parseAddress(name: string, value: string | undefined): bigint {
  const v = (value ?? '').trim();
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(v)) throw new UsageError(`${name}: '${value}' is not an address`);
  return BigInt(v);
}

export function resolveInvocation(parsed: ParsedArgv): Invocation {
  const inv: Invocation = {
    mode: 'run',
    reuseCmdline: false,
    reuseConsole: false,
    crash: false,
    statusOfNormal: false,
    unload: false,
    load: true,
    shutdown: true,
    sync: true,
    ifdown: false,
    exec: false,
    syscall: 'auto',
    debug: false,
    json: false,
    noChecks: false,
    requireSigned: false,
    trustCerts: [],
    notes: [],
  };
  let skipSync = false;
  let skipIfdown = false;
  let forceSync = false;
  let status = false;
  let sawLoadOption = false;
  let unloadBeforePanic = false;
  for (const { spec, name, value } of parsed.options) {
    switch (spec.id) {
      case 'help':
        return { ...inv, mode: 'help' };
      case 'version':
        return { ...inv, mode: 'version' };
      case 'debug':
        inv.debug = true;
        break;
      case 'json':
        inv.json = true;
        break;
      case 'force':
        Object.assign(inv, { shutdown: false, sync: true, ifdown: true, exec: true });
        break;
      case 'exec':
        Object.assign(inv, { load: false, shutdown: false, sync: true, ifdown: true, exec: true });
        break;
      case 'load':
        Object.assign(inv, { load: true, exec: false, shutdown: false });
        sawLoadOption = true;
        break;
      case 'unload':
        Object.assign(inv, { load: false, shutdown: false, sync: false, unload: true });
        break;
      case 'load-panic':
        if (inv.unload && !inv.load) unloadBeforePanic = true;
        Object.assign(inv, { load: true, exec: false, shutdown: false, sync: false, crash: true });
        sawLoadOption = true;
        break;
      case 'status':
        status = true;
        break;
      case 'print-ckr-size':
        return { ...inv, mode: 'print-ckr-size' };
      case 'type':
        inv.type = value;
        break;
      case 'file-syscall':
        inv.syscall = 'file';
        break;
      case 'kexec-syscall':
        inv.syscall = 'load';
        break;
      case 'syscall-auto':
        inv.syscall = 'auto';
        break;
      case 'no-ifdown':
        skipIfdown = true;
        break;
      case 'no-sync':
        skipSync = true;
        break;
      case 'force-sync':
        forceSync = true;
        break;
      case 'no-checks':
        inv.noChecks = true;
        break;
      case 'command-line':
        inv.append = value;
        break;
      case 'reuse-cmdline':
        inv.reuseCmdline = true;
        break;
      case 'reuse-console':
        inv.reuseConsole = true;
        break;
      case 'initrd':
        inv.initrd = value;
        break;
      case 'real-mode':
        throw new UsageError(
          '--real-mode: the 16-bit real-mode entry needs the kexec_load path, which kexec-ts does not have yet',
          {
            hint: 'kexec_file_load cannot enter a kernel in real mode either; load without --real-mode',
          },
        );
      case 'elf32-core-headers':
        throw new UsageError('--elf32-core-headers: x86_64 crash headers are always ELF64', {
          hint: 'drop the option (kexec-tools ignores it on x86_64 as well)',
        });
      case 'elf64-core-headers':
        inv.notes.push('--elf64-core-headers: crash headers are ELF64 on x86_64 anyway');
        break;
      case 'mem-min':
        inv.memMin = parseAddress(name, value);
        inv.notes.push(`${name}: only affects the kexec_load path`);
        break;
      case 'mem-max':
        inv.memMax = parseAddress(name, value);
        inv.notes.push(`${name}: only affects the kexec_load path`);
        break;
      case 'require-signed':
        inv.requireSigned = true;
        break;
      case 'trust-cert':
        if (value !== undefined) inv.trustCerts.push(value);
        break;
      case 'noefi':
        inv.noEfi = true;
        inv.notes.push(`${name}: only affects the kexec_load path`);
        break;
      case 'entry':
      case 'ignored':
        inv.notes.push(`${name}: only affects the kexec_load path; ignored by kexec_file_load`);
        break;
    }
  }
  if (skipIfdown) inv.ifdown = false;
  if (skipSync) inv.sync = false;
  if (forceSync) inv.sync = true;
  const [kernel, ...extra] = parsed.operands;
  inv.kernel = kernel;
  if (status) return { ...inv, mode: 'status', statusOfNormal: sawLoadOption && !inv.crash };
  if (extra.length > 0)
    throw new UsageError(`unexpected argument '${extra[0]}' after the kernel '${kernel}'`);
  // kexec-tools: `-u -p` turns loading back on and then fails for want of a kernel. Unloading the crash
  // kernel is what was meant.
  if (unloadBeforePanic && kernel === undefined) Object.assign(inv, { load: false, unload: true });
  if (kernel !== undefined && !inv.load && inv.exec) {
    throw new UsageError(
      `-e starts the kernel loaded earlier; '${kernel}' would be ignored (kexec-tools ignores it silently)`,
      {
        hint: `load and start in one step with -f ${kernel}, or run -l ${kernel} first and then -e`,
      },
    );
  }
  if (inv.load && inv.ifdown && !inv.exec) {
    throw new UsageError('-e before -l: kexec-tools would load, take the network down and not reboot', {
      hint: 'use -f KERNEL to load and start at once, or -l KERNEL then -e',
    });
  }
  if (inv.load && kernel === undefined) {
    if (!sawLoadOption && !inv.unload && parsed.options.length === 0) {
      throw new UsageError('nothing to do: no kernel and no action given', { hint: 'run kexec-ts --help' });
    }
    throw new UsageError('no kernel given to load', {
      hint: 'kexec-ts -l KERNEL [--initrd=FILE] [--append=...]',
    });
  }
  if (!inv.load && kernel !== undefined && !inv.exec) {
    throw new UsageError(`'${kernel}' given, but nothing will load it (-u only unloads)`, {
      hint: 'drop the kernel argument, or use -l/-p to load it',
    });
  }
  if (inv.trustCerts.length > 0 && !inv.requireSigned)
    throw new UsageError('--trust-cert is only used with --require-signed', {
      hint: 'kexec-ts --require-signed --trust-cert CA.pem -l KERNEL',
    });
  if (inv.requireSigned && !inv.load)
    throw new UsageError('--require-signed checks a kernel being loaded: give -l KERNEL or -p KERNEL');
  if (inv.type !== undefined && inv.syscall !== 'load') {
    inv.notes.push('--type: only affects the kexec_load path; kexec_file_load probes the image itself');
  }
  return inv;
}
