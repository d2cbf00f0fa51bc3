// The capture initramfs's /init (busybox sh). It mounts the kernel file systems, loads MODULES, mounts
// or prepares TARGET, runs `kexec-ts kdump save` (which does the ACTION itself), and does the ACTION
// with busybox when save could not (Node failed to start, the target could not be mounted).

/** Printed by /init; the lab test and a serial console watcher look for these. */
export const INIT_MARK = 'kexec-ts-kdump:';

export const CAPTURE_MOUNT = '/mnt/kdump-target';
export const ROOT_MOUNT = '/mnt/kdump-root';

export const KDUMP_INIT = `#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /run && mount -t devpts devpts /dev/pts 2>/dev/null
say() { echo "${INIT_MARK} $*"; echo "${INIT_MARK} $*" > /dev/kmsg 2>/dev/null; }
. /etc/kexec-ts/kdump.conf
say "capture kernel $(uname -r), vmcore $(stat -c %s /proc/vmcore 2>/dev/null || echo absent)"
for m in $MODULES; do insmod "$m" || say "insmod $m failed"; done
finish() {
  case "$ACTION" in
    reboot) say "rebooting"; sync; reboot -f ;;
    poweroff) say "powering off"; sync; poweroff -f ;;
  esac
  say "shell (ACTION=$ACTION)"
  while :; do setsid cttyhack sh -l; done
}
wait_dev() {
  i=0
  while [ ! -b "$1" ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
  [ -b "$1" ]
}
dir="$TARGET"
case "$TARGET" in
  /dev/*)
    wait_dev "$TARGET" || { say "TARGET $TARGET: no such block device"; finish; }
    mkdir -p ${CAPTURE_MOUNT}
    mount "$TARGET" ${CAPTURE_MOUNT} || { say "TARGET $TARGET: mount failed"; finish; }
    dir=${CAPTURE_MOUNT} ;;
  *)
    # A directory on the crashed system's root file system (root= on the command line), else in RAM.
    root=$(tr ' ' '\\n' < /proc/cmdline | sed -n 's/^root=//p' | tail -n 1)
    case "$root" in
      UUID=*|LABEL=*) root=$(findfs "$root" 2>/dev/null || echo "$root") ;;
    esac
    if [ -n "$root" ] && wait_dev "$root" && mkdir -p ${ROOT_MOUNT} && mount "$root" ${ROOT_MOUNT}; then
      dir=${ROOT_MOUNT}$TARGET
    else
      say "no root= file system mounted: $TARGET is in RAM and is lost on reboot"
    fi
    mkdir -p "$dir" ;;
esac
say "saving to $dir"
/bin/kexec-ts kdump save --dir "$dir"
say "kdump save exited $?"
umount ${CAPTURE_MOUNT} ${ROOT_MOUNT} 2>/dev/null
finish
`;

export const KEXEC_TS_WRAPPER = `#!/bin/sh
exec /bin/node /opt/kexec-ts/node_modules/kexec-ts/dist/src/bin/kexec-ts.js "$@"
`;
