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

/** Printed by the capture init after `lab.dump=DEV` copied /proc/vmcore to DEV: `status=0 bytes=N`. */
export const DUMP_MARK = 'KEXEC-TS-LAB DUMP';
/** Loaded in this order by the capture init for lab.dump= (paths under /lib/modules/<release>/kernel/drivers). */
export const CAPTURE_MODULES = [
  'virtio/virtio_ring.ko', // virtio.ko uses virtio_break_device from virtio_ring
  'virtio/virtio.ko',
  'virtio/virtio_pci_modern_dev.ko',
  'virtio/virtio_pci_legacy_dev.ko',
  'virtio/virtio_pci.ko',
  'block/virtio_blk.ko',
];

// lab.dump=/dev/vda on the capture kernel's command line: load the virtio disk driver and copy
// /proc/vmcore to that disk, so the host can read the dump once QEMU has exited.
const SAVE_VMCORE = `dump=$(sed -n 's/.*lab[.]dump=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
if [ -n "$dump" ] && [ -e /proc/vmcore ]; then
  for m in ${CAPTURE_MODULES.join(' ')}; do insmod /lib/modules/$(uname -r)/kernel/drivers/$m; done
  i=0
  while [ ! -b "$dump" ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
  dd if=/proc/vmcore of="$dump" bs=1M 2>/tmp/dd.err
  st=$?
  sync
  echo "${DUMP_MARK} status=$st bytes=$(stat -c %s /proc/vmcore)"
fi
`;

export const CAPTURE_INIT = `#!/bin/sh
${MOUNTS}echo "${MARK.capture}"
if [ -e /proc/vmcore ]; then
  echo "${MARK.vmcore} present size=$(stat -c %s /proc/vmcore)"
else
  echo "${MARK.vmcore} absent"
fi
${SAVE_VMCORE}${READY('capture')}${SHELL_LOOP}`;

export const PROFILE = `export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root
export PS1='lab# '
`;

export const KEXEC_TS_WRAPPER = `#!/bin/sh
exec /bin/node /opt/kexec-ts/node_modules/kexec-ts/dist/src/bin/kexec-ts.js "$@"
`;

/**
 * Shell command that writes /tmp/chain.img: the guest's rootfs archive plus a cpio of /boot (and `extra`
 * paths), so a kernel booted from it still has /boot/vmlinuz and /boot/initrd.img to kexec again.
 */
export const makeChain = (extra = '') =>
  `cd / && { cat /boot/initrd.img; find boot${extra ? ` ${extra}` : ''} | cpio -o -H newc 2>/dev/null; } > /tmp/chain.img && cd /`;
