// The boot-time hook that loads the capture kernel: a systemd unit, or a sysvinit/busybox init.d script
// for systems without systemd. `kexec-ts kdump install-unit` writes one of them with the absolute paths of
// the Node and kexec-ts that run it (systemd wants an absolute ExecStart; PATH differs between inits).
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from '../../errors.js';

import { SYSTEMD_DIR, SYSV_DIR, SYSV_NAME, UNIT_NAME } from './paths.js';

export { SYSTEMD_DIR, SYSV_DIR, SYSV_NAME, UNIT_NAME };

/** `NODE ENTRY` as one command prefix; refused if a path would need quoting in either format. */
export function kexecTsCommand(node: string, entry: string): string {
  for (const p of [node, entry])
    if (!/^\/[A-Za-z0-9._+@/-]+$/.test(p))
      throw new StateError(`path with spaces or shell characters: ${p}`, {
        hint: 'install Node and kexec-ts under plain paths',
      });
  return `${node} ${entry}`;
}

/**
 * systemd.service(5): oneshot + RemainAfterExit, so the unit is "active" while the capture kernel is
 * loaded and `systemctl stop` unloads it. After=local-fs.target: KERNEL and INITRD are files (/boot,
 * /var/lib) that must be mounted. Not ordered before anything: a machine boots the same without kdump.
 * `documentation`: URIs for Documentation= (the Debian package names its copy of docs/kdump-service.md).
 */
export function systemdUnit(cmd: string, documentation: string[] = []): string {
  const docs = documentation.length ? `Documentation=${documentation.join(' ')}\n` : '';
  return `[Unit]
Description=kexec-ts kdump: load the crash capture kernel
${docs}After=local-fs.target
RequiresMountsFor=/boot /var/lib

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${cmd} kdump load
ExecStop=${cmd} kdump unload

[Install]
WantedBy=multi-user.target
`;
}

/** An LSB init script (Debian's sysvinit, busybox's rc): start loads, stop unloads, status checks. */
export function sysvScript(cmd: string): string {
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${SYSV_NAME}
# Required-Start:    $local_fs
# Required-Stop:     $local_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: kexec-ts kdump: load the crash capture kernel
### END INIT INFO
case "$1" in
  start) exec ${cmd} kdump load ;;
  stop) exec ${cmd} kdump unload ;;
  restart|force-reload) ${cmd} kdump unload; exec ${cmd} kdump load ;;
  status) exec ${cmd} kdump status ;;
  *) echo "Usage: $0 {start|stop|restart|force-reload|status}" >&2; exit 3 ;;
esac
`;
}

export interface InstallUnitResult {
  path: string;
  kind: 'systemd' | 'sysv';
  text: string;
}

/** Writes the unit (or script) under `dir`, through a temporary name and a rename. */
export function installUnit(kind: 'systemd' | 'sysv', dir: string, cmd: string): InstallUnitResult {
  const path = join(dir, kind === 'systemd' ? UNIT_NAME : SYSV_NAME);
  const text = kind === 'systemd' ? systemdUnit(cmd) : sysvScript(cmd);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  if (kind === 'sysv') chmodSync(tmp, 0o755);
  renameSync(tmp, path);
  return { path, kind, text };
}
