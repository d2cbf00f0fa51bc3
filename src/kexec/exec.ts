// Starting the loaded kernel, and reporting what is loaded. Safer than kexec-tools: nothing is synced
// and no interface is touched until we know a kernel is loaded (kexec-tools takes the network down
// even when /sys/kernel/kexec_loaded is missing and the reboot then fails).
import { StateError } from '../errors.js';
import { ifdownTargets } from '../sys/net.js';
import { KEXEC_CRASH_LOADED, KEXEC_LOADED, LINUX_REBOOT_CMD_KEXEC, type Sys } from '../sys/types.js';

export { KEXEC_CRASH_LOADED, KEXEC_LOADED };

/** 1 loaded, 0 not, undefined when the kernel has no such file (no kexec support). */
export function readLoaded(sys: Sys, path: string): 0 | 1 | undefined {
  const text = sys.readText(path);
  if (text === undefined) return undefined;
  return text.trim() === '1' ? 1 : 0;
}

export interface ExecSteps {
  sync: boolean;
  ifdown: boolean;
}

export interface ExecReport {
  synced: boolean;
  interfacesDown: string[];
}

export function requireLoaded(sys: Sys): void {
  const loaded = readLoaded(sys, KEXEC_LOADED);
  if (loaded === undefined) {
    throw new StateError(`${KEXEC_LOADED} does not exist: this kernel cannot kexec`, {
      hint: 'the running kernel was built without CONFIG_KEXEC/CONFIG_KEXEC_FILE; kexec-ts doctor says more',
    });
  }
  if (loaded === 0) {
    throw new StateError('Nothing has been loaded!', {
      hint: 'load a kernel first: kexec-ts -l KERNEL [--initrd=FILE]',
    });
  }
}

/** -e: check, sync, ifdown, reboot(LINUX_REBOOT_CMD_KEXEC). Returns only if reboot(2) returned. */
export function execLoaded(sys: Sys, steps: ExecSteps, debug: (s: string) => void = () => {}): ExecReport {
  requireLoaded(sys);
  const report: ExecReport = { synced: false, interfacesDown: [] };
  if (steps.sync) {
    debug('sync()');
    sys.sync();
    report.synced = true;
  }
  if (steps.ifdown) {
    for (const { name } of ifdownTargets(sys.interfaces())) {
      debug(`ifdown ${name}`);
      // kexec-tools ignores failures here; a half-down network must not stop the reboot.
      try {
        sys.ifdown(name);
        report.interfacesDown.push(name);
      } catch {}
    }
  }
  debug('reboot(LINUX_REBOOT_CMD_KEXEC)');
  sys.reboot(LINUX_REBOOT_CMD_KEXEC);
  return report;
}

/** Plain `kexec-ts KERNEL`: after loading, ask the init system for a clean kexec reboot. */
export function handOffToInit(sys: Sys): { argv: string[]; status: number } {
  const systemd = sys.listDir('/run/systemd/system') !== undefined && sys.which('systemctl') !== undefined;
  const argv = systemd ? ['systemctl', 'kexec'] : ['shutdown', '-r', 'now'];
  if (!systemd && sys.which('shutdown') === undefined) {
    throw new StateError('no systemctl and no shutdown(8) found to reboot cleanly', {
      hint: 'run kexec-ts -e yourself once services are stopped',
    });
  }
  return { argv, status: sys.spawn(argv) };
}
