// struct ifreq handling for SIOCGIFFLAGS / SIOCSIFFLAGS, and kexec-tools' choice of interfaces to
// bring down before exec (kexec/ifdown.c).
import { endianness } from 'node:os';
import type { NetInterface } from './types.js';

// include/uapi/linux/sockios.h
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
// include/uapi/linux/if.h
export const IFF_UP = 0x1;
export const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on 64-bit: 16-byte name + 24-byte union (ifr_flags is its first short). */
export const IFREQ_SIZE = 40;
// include/linux/socket.h, include/linux/net.h, include/uapi/linux/netlink.h
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;

const LE = endianness() === 'LE';

/** A zeroed struct ifreq carrying `name` (NUL-terminated, at most IFNAMSIZ-1 bytes). */
export function ifreq(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ)
    throw new RangeError(`bad interface name ${JSON.stringify(name)}`);
  const buf = Buffer.alloc(IFREQ_SIZE);
  bytes.copy(buf, 0);
  return buf;
}

export function ifreqFlags(buf: Buffer): number {
  return LE ? buf.readUInt16LE(IFNAMSIZ) : buf.readUInt16BE(IFNAMSIZ);
}

export function setIfreqFlags(buf: Buffer, flags: number): void {
  if (LE) buf.writeUInt16LE(flags & 0xffff, IFNAMSIZ);
  else buf.writeUInt16BE(flags & 0xffff, IFNAMSIZ);
}

/**
 * The interfaces `kexec -e` takes down, in order. Like kexec-tools: skip `lo` (local services keep
 * working until the jump) and alias names containing ':' (they share their parent's flags); do
 * `shaper*` devices first because they sit on top of other devices; only interfaces that are up.
 */
export function ifdownTargets(interfaces: readonly NetInterface[]): NetInterface[] {
  const eligible = interfaces.filter((i) => i.up && i.name !== 'lo' && !i.name.includes(':'));
  const shaper = eligible.filter((i) => i.name.startsWith('shaper'));
  return [...shaper, ...eligible.filter((i) => !i.name.startsWith('shaper'))];
}
