// Marker lines printed by the guest init scripts (guest-scripts.ts) and matched by console.ts.
export const MARK = {
  ready: 'KEXEC-TS-LAB READY',
  cmdline: 'KEXEC-TS-LAB CMDLINE',
  capture: 'KEXEC-TS-LAB CAPTURE',
  vmcore: 'KEXEC-TS-LAB VMCORE',
  shellExit: 'KEXEC-TS-LAB SHELL-EXIT',
} as const;

/** `KEXEC-TS-LAB READY uptime=1.23 role=main` */
export const READY_RE = /KEXEC-TS-LAB READY uptime=([\d.]+) role=(\w+)/;
/** First line every Linux boot prints. */
export const LINUX_VERSION_RE = /Linux version (\S+)/;
