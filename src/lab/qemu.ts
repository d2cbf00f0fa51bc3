// QEMU command lines for the lab guest. TCG by default: nested KVM is not dependable on CI hosts.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LabError } from '../errors.js';
import { realSys } from '../sys/index.js';
import type { Sys } from '../sys/types.js';

export const OVMF_PATH = '/usr/share/ovmf/OVMF.fd';
/** Debian's ovmf package: Secure Boot firmware, and vars whose PK, KEK and db hold its snakeoil key. */
export const OVMF_SECBOOT_CODE = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd';
export const OVMF_SNAKEOIL_VARS = '/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd';
/** The snakeoil db certificate and its key (passphrase "snakeoil"), beside them. */
export const OVMF_SNAKEOIL_CERT = '/usr/share/ovmf/PkKek-1-snakeoil.pem';
export const OVMF_SNAKEOIL_KEY = '/usr/share/ovmf/PkKek-1-snakeoil.key';
/** Always on the guest command line: kernel output and the shell on the first serial port. */
export const BASE_APPEND = 'console=ttyS0';

export interface QemuOptions {
  kernel: string;
  initrd: string;
  /** Appended to BASE_APPEND. */
  append?: string;
  memoryMiB?: number;
  smp?: number;
  machine?: 'q35' | 'pc';
  accel?: 'tcg' | 'kvm';
  /** Boot through UEFI firmware (OVMF) instead of SeaBIOS; a path picks another firmware image. */
  ovmf?: boolean | string;
  /**
   * UEFI Secure Boot: OVMF's secboot code and a writable copy of a vars file with keys enrolled (e.g.
   * Debian's OVMF_VARS_4M.snakeoil.fd) as pflash, on q35 with SMM (OVMF's secure variable store needs it).
   */
  secureBoot?: { code: string; vars: string };
  /** Raw disk images attached as virtio drives. */
  drives?: string[];
  /** Exit QEMU instead of resetting on a guest reboot. */
  noReboot?: boolean;
  extraArgs?: string[];
  qemuBinary?: string;
}

export const QEMU_DEFAULTS = { memoryMiB: 2048, smp: 2, machine: 'q35', accel: 'tcg' } as const;

export function qemuArgv(o: QemuOptions, serial: 'stdio' | 'mon:stdio' = 'stdio'): string[] {
  const argv = [
    o.qemuBinary ?? 'qemu-system-x86_64',
    '-accel',
    o.accel ?? QEMU_DEFAULTS.accel,
    '-machine',
    o.machine ?? QEMU_DEFAULTS.machine,
    '-cpu',
    'max',
    '-m',
    String(o.memoryMiB ?? QEMU_DEFAULTS.memoryMiB),
    '-smp',
    String(o.smp ?? QEMU_DEFAULTS.smp),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-serial',
    serial,
    '-nic',
    'none',
    '-kernel',
    o.kernel,
    '-initrd',
    o.initrd,
    '-append',
    o.append ? `${BASE_APPEND} ${o.append}` : BASE_APPEND,
  ];
  if (serial === 'stdio') argv.push('-monitor', 'none');
  if (o.ovmf) {
    const fw = typeof o.ovmf === 'string' ? o.ovmf : OVMF_PATH;
    if (!existsSync(fw))
      throw new LabError(`${fw} missing`, { hint: 'apt-get install ovmf (or kexec-ts lab setup)' });
    argv.push('-bios', fw);
  }
  if (o.secureBoot) {
    for (const f of [o.secureBoot.code, o.secureBoot.vars])
      if (!existsSync(f))
        throw new LabError(`${f} missing`, { hint: 'apt-get install ovmf (or kexec-ts lab setup)' });
    argv[argv.indexOf('-machine') + 1] += ',smm=on';
    argv.push(
      '-global',
      'driver=cfi.pflash01,property=secure,value=on',
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${o.secureBoot.code}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${o.secureBoot.vars}`,
    );
  }
  for (const d of o.drives ?? []) argv.push('-drive', `file=${d},format=raw,if=virtio`);
  if (o.noReboot) argv.push('-no-reboot');
  argv.push(...(o.extraArgs ?? []));
  return argv;
}

/** QEMU with the serial console on pipes, for GuestConsole. */
export function spawnQemu(o: QemuOptions, sys: Sys = realSys()): ChildProcess {
  return sys.start(qemuArgv(o));
}
