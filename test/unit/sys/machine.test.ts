import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FakeSys } from '../../../src/sys/fake.js';
import { crashKernelRanges, parseIomem } from '../../../src/sys/iomem.js';
import {
  parseKernelConfig,
  readCrashKernel,
  readKernelConfig,
  readKexecState,
  readLockdown,
  readSecureBoot,
  SECURE_BOOT_VAR,
} from '../../../src/sys/machine.js';
import { ifdownTargets, ifreq, ifreqFlags, setIfreqFlags } from '../../../src/sys/net.js';
import { archFromNode } from '../../../src/sys/syscall-numbers.js';

const IOMEM = `00000000-00000fff : Reserved
00100000-7ffdffff : System RAM
  2b000000-3affffff : Crash kernel
  7f000000-7fffffff : Crash kernel
fee00000-fee00fff : Local APIC
`;

describe('machine readers', () => {
  it('parses kernel config, set and unset', () => {
    const m = parseKernelConfig('CONFIG_KEXEC=y\n# CONFIG_KEXEC_FILE is not set\nCONFIG_LOCALVERSION="-x"\n');
    assert.equal(m.get('CONFIG_KEXEC'), 'y');
    assert.equal(m.get('CONFIG_KEXEC_FILE'), 'n');
    assert.equal(m.get('CONFIG_LOCALVERSION'), '-x');
  });
  it('prefers /proc/config.gz, then /boot/config-<release>', () => {
    const gz = new FakeSys({ files: { '/proc/config.gz': gzipSync('CONFIG_KEXEC_FILE=y\n') } });
    assert.equal(readKernelConfig(gz)?.source, '/proc/config.gz');
    const boot = new FakeSys({
      files: { '/proc/sys/kernel/osrelease': '6.1.0-9\n', '/boot/config-6.1.0-9': 'CONFIG_KEXEC=y\n' },
    });
    assert.equal(readKernelConfig(boot)?.source, '/boot/config-6.1.0-9');
    assert.equal(readKernelConfig(boot)?.options.get('CONFIG_KEXEC'), 'y');
    assert.equal(readKernelConfig(new FakeSys()), undefined);
  });
  it('finds Crash kernel ranges at any depth and sizes them', () => {
    // half-open: /proc/iomem's inclusive 2b000000-3affffff (struct resource's end) is [0x2b000000, 0x3b000000)
    assert.deepEqual(
      crashKernelRanges(parseIomem(IOMEM)).map(({ start, end, depth, hidden }) => [
        start,
        end,
        depth,
        hidden,
      ]),
      [
        [0x2b000000n, 0x3b000000n, 1, false],
        [0x7f000000n, 0x80000000n, 1, false],
      ],
    );
    const c = readCrashKernel(
      new FakeSys({ files: { '/proc/iomem': IOMEM, '/proc/cmdline': 'ro crashkernel=272M' } }),
    );
    assert.equal(c.iomemBytes, 0x11000000n);
    assert.equal(c.hidden, false);
    assert.deepEqual(c.cmdline, ['crashkernel=272M']);
  });
  it('sees that non-root gets zeroed iomem addresses', () => {
    const c = readCrashKernel(
      new FakeSys({ files: { '/proc/iomem': '00000000-00000000 : Crash kernel\n' } }),
    );
    assert.equal(c.hidden, true);
    assert.equal(c.iomemBytes, 0n);
  });
  it('reads lockdown, Secure Boot and loaded state', () => {
    const ld = new FakeSys({
      files: { '/sys/kernel/security/lockdown': 'none [integrity] confidentiality\n' },
    });
    assert.equal(readLockdown(ld), 'integrity');
    assert.equal(readLockdown(new FakeSys()), undefined);
    assert.equal(readSecureBoot(new FakeSys()), 'not-efi');
    assert.equal(readSecureBoot(new FakeSys({ dirs: ['/sys/firmware/efi'] })), 'unknown');
    const sb = new FakeSys({ files: { [SECURE_BOOT_VAR]: new Uint8Array([6, 0, 0, 0, 1]) } });
    assert.equal(readSecureBoot(sb), 'enabled');
    assert.deepEqual(readKexecState(new FakeSys()), { loaded: false, crashLoaded: false });
    assert.deepEqual(readKexecState(new FakeSys({ kexecSysfs: false })), {
      loaded: undefined,
      crashLoaded: undefined,
    });
  });
});

describe('net helpers', () => {
  it('builds struct ifreq', () => {
    const r = ifreq('eth0');
    assert.equal(r.length, 40);
    assert.equal(r.subarray(0, 5).toString('latin1'), 'eth0\0');
    setIfreqFlags(r, 0x1043);
    assert.equal(ifreqFlags(r), 0x1043);
    assert.throws(() => ifreq('a-very-long-ifname'), RangeError);
  });
  it('chooses interfaces to take down like kexec-tools', () => {
    const targets = ifdownTargets([
      { name: 'lo', up: true },
      { name: 'eth0', up: true },
      { name: 'eth0:1', up: true },
      { name: 'eth1', up: false },
      { name: 'shaper0', up: true },
    ]);
    assert.deepEqual(
      targets.map((i) => i.name),
      ['shaper0', 'eth0'],
    );
  });
  it('maps node arch names', () => {
    assert.equal(archFromNode('x64'), 'x86_64');
    assert.equal(archFromNode('arm64'), 'aarch64');
    assert.equal(archFromNode('riscv64'), 'riscv64');
    assert.equal(archFromNode('ia32'), undefined);
  });
});
