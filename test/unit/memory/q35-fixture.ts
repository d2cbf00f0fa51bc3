// A QEMU q35 guest with 2 GiB of RAM, as its /sys/firmware/memmap and /proc/iomem show it.
import { FakeSys } from '../../../src/sys/fake.js';

/** [start, inclusive end, type] as /sys/firmware/memmap/N prints them. */
export const Q35_2G: ReadonlyArray<readonly [number, number, string]> = [
  [0x0, 0x9fbff, 'System RAM'],
  [0x9fc00, 0x9ffff, 'Reserved'],
  [0xf0000, 0xfffff, 'Reserved'],
  [0x100000, 0x7ffdffff, 'System RAM'],
  [0x7ffe0000, 0x7fffffff, 'Reserved'],
  [0xb0000000, 0xbfffffff, 'Reserved'],
  [0xfed1c000, 0xfed1ffff, 'Reserved'],
  [0xfffc0000, 0xffffffff, 'Reserved'],
];

export const Q35_2G_IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000c0000-000c99ff : Video ROM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-7ffdffff : System RAM
  01000000-01ffffff : Kernel code
  02000000-0260ffff : Kernel rodata
  70000000-77ffffff : Crash kernel
7ffe0000-7fffffff : Reserved
80000000-afffffff : PCI Bus 0000:00
b0000000-bfffffff : PCI ECAM 0000 [bus 00-ff]
  b0000000-bfffffff : Reserved
fed1c000-fed1ffff : Reserved
  fed1f410-fed1f414 : iTCO_wdt.0.auto
fffc0000-ffffffff : Reserved
`;

/** FakeSys with /sys/firmware/memmap (unless `firmware` is false) and /proc/iomem. */
export function q35Sys(options: { firmware?: boolean; iomem?: string } = {}): FakeSys {
  const files: Record<string, string> = { '/proc/iomem': options.iomem ?? Q35_2G_IOMEM };
  if (options.firmware ?? true) {
    Q35_2G.forEach(([start, end, type], i) => {
      files[`/sys/firmware/memmap/${i}/start`] = `0x${start.toString(16)}\n`;
      files[`/sys/firmware/memmap/${i}/end`] = `0x${end.toString(16)}\n`;
      files[`/sys/firmware/memmap/${i}/type`] = `${type}\n`;
    });
  }
  return new FakeSys({ files });
}
