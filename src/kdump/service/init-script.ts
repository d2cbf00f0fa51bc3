// The capture initramfs's /init (busybox sh). It mounts the kernel file systems, loads MODULES, finds
// Node and kexec-ts (NODE_FROM=root: on the crashed system's root file system, run there by chroot;
// NODE_FROM=initrd: inside this image), mounts or prepares TARGET, runs `kexec-ts kdump save` (which does
// the ACTION itself), and does the ACTION with busybox when save could not (Node failed to start, a mount
// failed).

/** Printed by /init; the lab test and a serial console watcher look for these. */
export const INIT_MARK = 'kexec-ts-kdump:';

export const CAPTURE_MOUNT = '/mnt/kdump-target';
export const ROOT_MOUNT = '/mnt/kdump-root';
/** Written by build-initrd next to kdump.conf: NODE= and ENTRY= (paths on ROOT, or in the image). */
export const CAPTURE_ENV = '/etc/kexec-ts/capture.env';
/** Inside the chroot (NODE_FROM=root): a tmpfs over the root's /run holds the config and TARGET's mount. */
export const CHROOT_RUN = '/run/kexec-ts';

export const KDUMP_INIT = `#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /run && mount -t devpts devpts /dev/pts 2>/dev/null
say() { echo "${INIT_MARK} $*"; echo "${INIT_MARK} $*" > /dev/kmsg 2>/dev/null; }
. /etc/kexec-ts/kdump.conf
. ${CAPTURE_ENV}
say "capture kernel $(uname -r), vmcore $(stat -c %s /proc/vmcore 2>/dev/null || echo absent), NODE_FROM=$NODE_FROM"
for m in $MODULES; do insmod "$m" || say "insmod $m failed"; done
finish() {
  case "$ACTION" in
    reboot) say "rebooting"; sync; reboot -f ;;
    poweroff) say "powering off"; sync; poweroff -f ;;
  esac
  say "shell (ACTION=$ACTION)"
  while :; do setsid cttyhack sh -l; done
}
# A block device by path, UUID= or LABEL=, waited for (60 s): drivers probe in the background.
find_dev() {
  i=0
  while [ $i -lt 60 ]; do
    case "$1" in
      UUID=*|LABEL=*) d=$(findfs "$1" 2>/dev/null) ;;
      *) d="$1" ;;
    esac
    [ -b "$d" ] && { echo "$d"; return 0; }
    sleep 1; i=$((i+1))
  done
  return 1
}
cmdline_root() { tr ' ' '\\n' < /proc/cmdline | sed -n 's/^root=//p' | tail -n 1; }
R=${ROOT_MOUNT}
cfg=/etc/kexec-ts/kdump.conf
chroot=
if [ "$NODE_FROM" = root ]; then
  # Node and kexec-ts live on ROOT: mounted read-only (read-write when TARGET is a directory on it),
  # so Node's text is page cache the kernel can drop, not RAM pinned in this image.
  [ -n "$ROOT" ] || ROOT=$(cmdline_root)
  rdev=$(find_dev "$ROOT") || { say "ROOT $ROOT: no such block device"; finish; }
  case "$TARGET" in /dev/*) ro=ro ;; *) ro=rw ;; esac
  mkdir -p $R
  mount -o $ro "$rdev" $R || { say "ROOT $rdev: mount failed"; finish; }
  for d in proc sys dev; do mount -o bind /$d $R/$d || say "bind /$d failed"; done
  run=$R/run; [ -d $run ] || run=$R/tmp
  mount -t tmpfs -o size=1m,mode=0755 tmpfs $run || { say "tmpfs on $run failed"; finish; }
  c=\${run#$R}/kexec-ts
  mkdir -p $R$c && cp /etc/kexec-ts/kdump.conf $R$c/kdump.conf
  cfg=$c/kdump.conf
  chroot="chroot $R"
  case "$TARGET" in
    /dev/*)
      tdev=$(find_dev "$TARGET") || { say "TARGET $TARGET: no such block device"; finish; }
      mkdir -p $R$c/target
      mount "$tdev" $R$c/target || { say "TARGET $TARGET: mount failed"; finish; }
      dir=$c/target ;;
    *) dir="$TARGET"; mkdir -p "$R$dir" ;;
  esac
else
  case "$TARGET" in
    /dev/*)
      tdev=$(find_dev "$TARGET") || { say "TARGET $TARGET: no such block device"; finish; }
      mkdir -p ${CAPTURE_MOUNT}
      mount "$tdev" ${CAPTURE_MOUNT} || { say "TARGET $TARGET: mount failed"; finish; }
      dir=${CAPTURE_MOUNT} ;;
    *)
      # A directory on the crashed system's root file system (root= on the command line), else in RAM.
      root=\${ROOT:-$(cmdline_root)}
      if [ -n "$root" ] && rdev=$(find_dev "$root") && mkdir -p $R && mount "$rdev" $R; then
        dir=$R$TARGET
      else
        say "no root= file system mounted: $TARGET is in RAM and is lost on reboot"
        dir=$TARGET
      fi
      mkdir -p "$dir" ;;
  esac
fi
say "saving to $dir"
$chroot $NODE $NODE_ARGS $ENTRY kdump save --config $cfg --dir "$dir"
st=$?
say "kdump save exited $st"
# Killed by a signal (the OOM killer in a small reservation): keep a full ELF copy with busybox dd, which
# needs a 1 MiB buffer rather than Node's ~30 MB.
if [ $st -ge 128 ] && [ -e /proc/vmcore ]; then
  [ -n "$chroot" ] && out=$R$dir || out=$dir
  d="$out/$(date -u +%Y%m%d-%H%M%S)-dd"
  if mkdir -p "$d" && dd if=/proc/vmcore of="$d/vmcore" bs=1M 2>/dev/null && sync; then
    say "fallback: busybox dd saved vmcore to $d"
  else
    say "fallback: busybox dd to $d failed"
  fi
fi
sync
finish
`;

export const KEXEC_TS_WRAPPER = `#!/bin/sh
exec /bin/node /opt/kexec-ts/node_modules/kexec-ts/dist/src/bin/kexec-ts.js "$@"
`;
