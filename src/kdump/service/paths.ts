// The kdump service's fixed paths, in a module of their own: the command's table (src/cli/commands/
// kdump.ts) names them in help and man pages on every call, without loading the service.
export const CONFIG_PATH = '/etc/kexec-ts/kdump.conf';
/** Where `kdump build-initrd` writes by default and where `kdump load` looks for the capture initramfs. */
export const DEFAULT_INITRD = '/var/lib/kexec-ts/kdump-initrd.img';
export const UNIT_NAME = 'kexec-ts-kdump.service';
export const SYSTEMD_DIR = '/etc/systemd/system';
export const SYSV_NAME = 'kexec-ts-kdump';
export const SYSV_DIR = '/etc/init.d';
