import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileError, SyscallError } from '../../../src/errors.js';
import { FakeSys, KEXEC_CRASH_LOADED, KEXEC_LOADED } from '../../../src/sys/fake.js';
import {
  KEXEC_ARCH_X86_64,
  KEXEC_FILE_NO_INITRAMFS,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_UNLOAD,
  KEXEC_ON_CRASH,
  LINUX_REBOOT_CMD_KEXEC,
} from '../../../src/sys/types.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const errno = (name: string) => (e: unknown) => e instanceof SyscallError && e.errno === name;

describe('FakeSys: files', () => {
  const sys = new FakeSys({
    files: { '/boot/vmlinuz': bytes('KERNEL'), '/proc/cmdline': 'root=/dev/vda\n' },
    dirs: ['/sys/firmware/efi'],
  });
  it('serves text, bytes and directories', () => {
    assert.equal(sys.readText('/proc/cmdline'), 'root=/dev/vda\n');
    assert.deepEqual(sys.readFile('/boot/vmlinuz'), bytes('KERNEL'));
    assert.equal(sys.readText('/nope'), undefined);
    assert.deepEqual(sys.listDir('/boot'), ['vmlinuz']);
    assert.deepEqual(sys.listDir('/sys/kernel'), ['kexec_crash_loaded', 'kexec_loaded']);
    assert.deepEqual(sys.listDir('/sys/firmware/efi'), []);
    assert.deepEqual(sys.listDir('/sys/firmware'), ['efi']);
    assert.equal(sys.listDir('/nope'), undefined);
    assert.throws(
      () => sys.readFile('/nope'),
      (e: unknown) => e instanceof FileError && e.errno === 'ENOENT',
    );
    assert.throws(
      () => sys.openRead('/boot'),
      (e: unknown) => e instanceof FileError && e.errno === 'EISDIR',
    );
  });
  it('records every call in order', () => {
    const s = new FakeSys();
    s.sync();
    s.readText('/x');
    s.which('systemctl');
    assert.deepEqual(s.calls, [
      { name: 'sync', args: [] },
      { name: 'readText', args: ['/x'] },
      { name: 'which', args: ['systemctl'] },
    ]);
  });
});

describe('FakeSys: kexec_file_load', () => {
  it('hands out fds 100, 101, ... and records what was loaded', () => {
    const sys = new FakeSys();
    const k = sys.memfdFromBytes('kernel', bytes('KERNEL'));
    const i = sys.memfdFromBytes('initrd', bytes('INITRD'));
    assert.deepEqual([k, i], [100, 101]);
    sys.kexecFileLoad(k, i, 'console=ttyS0', 0);
    assert.deepEqual(sys.callsOf('memfdFromBytes'), [
      { name: 'memfdFromBytes', args: ['kernel', 6] },
      { name: 'memfdFromBytes', args: ['initrd', 6] },
    ]);
    assert.deepEqual(sys.callsOf('kexecFileLoad')[0]!.args, [100, 101, 'console=ttyS0', 0]);
    assert.deepEqual(sys.images.normal?.kernel, bytes('KERNEL'));
    assert.deepEqual(sys.images.normal?.initrd, bytes('INITRD'));
    assert.equal(sys.images.normal?.cmdline, 'console=ttyS0');
    assert.equal(sys.readText(KEXEC_LOADED), '1\n');
    assert.equal(sys.readText(KEXEC_CRASH_LOADED), '0\n');
  });
  it('loads from openRead fds and tracks crash loads and unloads separately', () => {
    const sys = new FakeSys({ files: { '/k': bytes('K') } });
    const fd = sys.openRead('/k');
    sys.kexecFileLoad(fd, -1, '', KEXEC_FILE_NO_INITRAMFS | KEXEC_FILE_ON_CRASH);
    assert.equal(sys.readText(KEXEC_CRASH_LOADED), '1\n');
    assert.equal(sys.readText(KEXEC_LOADED), '0\n');
    sys.kexecFileLoad(-1, -1, '', KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH);
    assert.equal(sys.readText(KEXEC_CRASH_LOADED), '0\n');
    assert.equal(sys.images.crash, undefined);
  });
  it('fails like the kernel: bad fd, missing initrd fd, no CAP_SYS_BOOT, kexec_load_disabled', () => {
    const sys = new FakeSys();
    assert.throws(() => sys.kexecFileLoad(42, -1, '', KEXEC_FILE_NO_INITRAMFS), errno('EBADF'));
    const k = sys.memfdFromBytes('k', bytes('K'));
    assert.throws(() => sys.kexecFileLoad(k, -1, '', 0), errno('EBADF'));
    assert.throws(() => new FakeSys({ capSysBoot: false }).kexecFileLoad(k, -1, '', 4), errno('EPERM'));
    const disabled = new FakeSys({ files: { '/proc/sys/kernel/kexec_load_disabled': '1\n' } });
    assert.throws(() => disabled.kexecLoad(0n, [], 0), errno('EPERM'));
    assert.equal(sys.readText(KEXEC_LOADED), '0\n');
  });
  it('fails on demand, by errno name or per call, with the real message shape', () => {
    const sys = new FakeSys({ failures: { kexecFileLoad: 'ENOEXEC' } });
    const k = sys.memfdFromBytes('k', bytes('K'));
    assert.throws(
      () => sys.kexecFileLoad(k, -1, '', KEXEC_FILE_NO_INITRAMFS),
      (e: unknown) =>
        e instanceof SyscallError &&
        e.message ===
          'kexec_file_load(kernel_fd=100, initrd_fd=-1, cmdline_len=1, flags=0x4) = ENOEXEC (Exec format error)' &&
        /inspect/.test(e.hint ?? ''),
    );
    assert.equal(sys.callsOf('kexecFileLoad').length, 1, 'the failed attempt is recorded');
    const picky = new FakeSys({ failures: { kexecLoad: (args) => (args[2] === 0 ? 'EPERM' : undefined) } });
    assert.throws(() => picky.kexecLoad(0n, [], 0), errno('EPERM'));
    picky.kexecLoad(0n, [], KEXEC_ON_CRASH);
  });
  it('rejects files by openRead failure', () => {
    const sys = new FakeSys({ files: { '/k': 'K' }, failures: { openRead: 'EACCES' } });
    assert.throws(
      () => sys.openRead('/k'),
      (e: unknown) => e instanceof FileError && e.errno === 'EACCES',
    );
  });
});

describe('FakeSys: kexec_load, reboot, interfaces', () => {
  it('kexec_load with segments loads, with none unloads', () => {
    const sys = new FakeSys();
    const seg = { buf: bytes('x'), mem: 0x100000n, memsz: 0x1000n };
    sys.kexecLoad(0x100000n, [seg], KEXEC_ARCH_X86_64);
    assert.equal(sys.readText(KEXEC_LOADED), '1\n');
    assert.deepEqual(sys.images.normal?.segments, [seg]);
    sys.kexecLoad(0n, [], KEXEC_ARCH_X86_64 | KEXEC_ON_CRASH);
    assert.equal(sys.readText(KEXEC_LOADED), '1\n');
    sys.kexecLoad(0n, [], KEXEC_ARCH_X86_64);
    assert.equal(sys.readText(KEXEC_LOADED), '0\n');
  });
  it('reboot records and returns once something is loaded, EINVAL otherwise', () => {
    const sys = new FakeSys();
    assert.throws(() => sys.reboot(LINUX_REBOOT_CMD_KEXEC), errno('EINVAL'));
    sys.kexecLoad(0x100000n, [{ buf: bytes('x'), mem: 0x100000n, memsz: 0x1000n }], 0);
    sys.reboot(LINUX_REBOOT_CMD_KEXEC);
    assert.deepEqual(sys.callsOf('reboot').at(-1), { name: 'reboot', args: [LINUX_REBOOT_CMD_KEXEC] });
  });
  it('can leave the sysfs state files out (kernel without kexec)', () => {
    const sys = new FakeSys({ kexecSysfs: false });
    assert.equal(sys.readText(KEXEC_LOADED), undefined);
    sys.kexecLoad(0x100000n, [{ buf: bytes('x'), mem: 0x100000n, memsz: 0x1000n }], 0);
    assert.equal(sys.readText(KEXEC_LOADED), undefined);
  });
  it('takes interfaces down in its own state only', () => {
    const sys = new FakeSys({
      interfaces: [
        { name: 'lo', up: true },
        { name: 'eth0', up: true },
      ],
    });
    sys.ifdown('eth0');
    assert.deepEqual(sys.interfaces(), [
      { name: 'lo', up: true },
      { name: 'eth0', up: false },
    ]);
    assert.throws(() => sys.ifdown('wlan9'), errno('ENODEV'));
  });
  it('answers which and spawn from its options', () => {
    const sys = new FakeSys({
      which: { systemctl: '/usr/bin/systemctl' },
      spawn: (argv) => (argv[0] === 'systemctl' ? 0 : 1),
    });
    assert.equal(sys.which('systemctl'), '/usr/bin/systemctl');
    assert.equal(sys.which('shutdown'), undefined);
    assert.equal(sys.spawn(['systemctl', 'kexec']), 0);
    assert.equal(sys.spawn(['shutdown', '-r', 'now']), 1);
    assert.deepEqual(sys.callsOf('spawn')[0]!.args, [['systemctl', 'kexec']]);
  });
});
