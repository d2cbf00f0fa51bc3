// Shell scripts baked into the guest images. The marker lines are what GuestConsole (console.ts) and the
// tests look for; keep them in sync with markers.ts.
import { MARK } from './markers.js';

const MOUNTS = `export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
hostname "$(cat /etc/hostname)"
`;

const READY = (role: string) => `read up _ </proc/uptime
echo "${MARK.ready} uptime=$up role=${role}"
echo "${MARK.cmdline} $(cat /proc/cmdline)"
`;

// cttyhack gives the shell the real console tty so Ctrl-C works; respawn keeps the console usable.
const SHELL_LOOP = `while :; do
  setsid cttyhack sh -l
  echo "${MARK.shellExit} $?"
done
`;

export const MAIN_INIT = `#!/bin/sh
${MOUNTS}${READY('main')}${SHELL_LOOP}`;

export const CAPTURE_INIT = `#!/bin/sh
${MOUNTS}echo "${MARK.capture}"
if [ -e /proc/vmcore ]; then
  echo "${MARK.vmcore} present size=$(stat -c %s /proc/vmcore)"
else
  echo "${MARK.vmcore} absent"
fi
${READY('capture')}${SHELL_LOOP}`;

export const PROFILE = `export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root
export PS1='lab# '
`;

export const KEXEC_TS_WRAPPER = `#!/bin/sh
exec /bin/node /opt/kexec-ts/node_modules/kexec-ts/dist/src/bin/kexec-ts.js "$@"
`;
