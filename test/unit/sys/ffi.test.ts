// Real FFI, read-only or harmless calls only: the kexec syscalls are made with arguments every
// kernel rejects (and this host has no kexec at all: ENOSYS). Never reboot or ifdown here.
import assert from 'node:assert/strict';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FileError, SyscallError } from '../../../src/errors.js';
import { encodeSegmentTable, hasCapability, IN_PLACE_MIN, KEXEC_SEGMENT_SIZE } from '../../../src/sys/ffi.js';
import { realSys } from '../../../src/sys/index.js';
import { inPlaceAddress, libc } from '../../../src/sys/libc.js';
import { KEXEC_FILE_NO_INITRAMFS } from '../../../src/sys/types.js';

const hostHasKexec = existsSync('/sys/kernel/kexec_loaded');

describe('real Sys: kexec syscalls', () => {
  it('kexec_file_load fails with a typed error (ENOSYS on a kernel without kexec)', () => {
    // fds -1: a kernel with kexec refuses them (EPERM or EBADF), so nothing can load.
    assert.throws(
      () => realSys().kexecFileLoad(-1, -1, '', KEXEC_FILE_NO_INITRAMFS),
      (err: unknown) => {
        assert.ok(err instanceof SyscallError);
        assert.match(
          err.message,
          /^kexec_file_load\(kernel_fd=-1, initrd_fd=-1, cmdline_len=1, flags=0x4\) = /,
        );
        if (!hostHasKexec) assert.equal(err.errno, 'ENOSYS');
        else assert.ok(['EPERM', 'EBADF'].includes(err.errno), err.errno);
        assert.ok(err.hint);
        return true;
      },
    );
  });
  it('kexec_load fails with a typed error (ENOSYS on a kernel without kexec)', () => {
    // Arch field 0xffff matches no architecture: EINVAL on any kernel that has kexec_load.
    const segments = [{ buf: new Uint8Array([1, 2, 3]), mem: 0x100000n, memsz: 0x1000n }];
    assert.throws(
      () => realSys().kexecLoad(0x100000n, segments, 0xffff0000),
      (err: unknown) => {
        assert.ok(err instanceof SyscallError);
        assert.match(err.message, /^kexec_load\(entry=0x100000, nr_segments=1, flags=0xffff0000\) = /);
        if (!hostHasKexec) assert.equal(err.errno, 'ENOSYS');
        else assert.ok(['EPERM', 'EINVAL'].includes(err.errno), err.errno);
        return true;
      },
    );
  });
});

describe('real Sys: memfd, files, interfaces', () => {
  it('memfdFromBytes gives an fd holding the bytes', () => {
    const sys = realSys();
    const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const fd = sys.memfdFromBytes('kexec-ts-test', data);
    try {
      assert.deepEqual(new Uint8Array(readFileSync(`/proc/self/fd/${fd}`)), data);
    } finally {
      sys.close(fd);
    }
  });
  it('memfdFromBytes accepts empty data', () => {
    const fd = realSys().memfdFromBytes('empty', new Uint8Array(0));
    assert.equal(readFileSync(`/proc/self/fd/${fd}`).length, 0);
    realSys().close(fd);
  });
  it('reads files and reports missing ones', () => {
    const sys = realSys();
    assert.match(sys.readText('/proc/self/status')!, /^Name:/);
    assert.equal(sys.readText('/nonexistent/kexec-ts'), undefined);
    assert.equal(sys.listDir('/nonexistent/kexec-ts'), undefined);
    assert.ok(sys.listDir('/proc/self')!.includes('status'));
    assert.throws(
      () => sys.readFile('/nonexistent/kexec-ts'),
      (e: unknown) => e instanceof FileError && e.errno === 'ENOENT',
    );
    assert.throws(
      () => sys.openRead('/nonexistent/kexec-ts'),
      (e: unknown) => e instanceof FileError && e.errno === 'ENOENT',
    );
    const fd = sys.openRead('/proc/self/status');
    assert.ok(fd >= 0);
    sys.close(fd);
  });
  it('lists interfaces with their up state (read-only SIOCGIFFLAGS)', () => {
    const ifs = realSys().interfaces();
    const lo = ifs.find((i) => i.name === 'lo');
    assert.ok(lo, JSON.stringify(ifs));
    assert.equal(typeof lo.up, 'boolean');
  });
  it('knows its arch, capabilities, PATH and how to spawn', () => {
    const sys = realSys();
    assert.ok(['x86_64', 'aarch64', 'riscv64'].includes(sys.arch));
    assert.equal(typeof sys.hasCapSysBoot(), 'boolean');
    assert.match(sys.which('sh')!, /\/sh$/);
    assert.equal(sys.which('kexec-ts-no-such-program'), undefined);
    assert.equal(sys.spawn(['true']), 0);
    assert.equal(sys.spawn(['false']), 1);
    assert.equal(sys.spawn(['kexec-ts-no-such-program']), 127);
  });
});

describe('helpers', () => {
  it('encodes struct kexec_segment[] as four native words each', () => {
    const segs = [
      { buf: new Uint8Array(10), mem: 0x1000000n, memsz: 0x2000n },
      { buf: new Uint8Array(0), mem: 0xffff_ffff_f000n, memsz: 0x1000n },
    ];
    const t = encodeSegmentTable(segs, [0xdead0000n, 0n]);
    assert.equal(t.length, 2 * KEXEC_SEGMENT_SIZE);
    const words = Array.from({ length: 8 }, (_, i) => t.readBigUInt64LE(i * 8));
    assert.deepEqual(words, [0xdead0000n, 10n, 0x1000000n, 0x2000n, 0n, 0n, 0xffff_ffff_f000n, 0x1000n]);
  });
  it("inPlaceAddress points at a typed array's own bytes (byteOffset included): write(2) them to a memfd", () => {
    const big = Buffer.alloc(IN_PLACE_MIN * 2).fill(0x41);
    big.write('kexec-ts', 4096 + 3);
    const view = big.subarray(4096 + 3, 4096 + 3 + 8);
    const fd = realSys().memfdFromBytes('inplace', new Uint8Array(0));
    try {
      // SYS_write is 1 on x86_64, 64 on aarch64 and riscv64.
      const nr = process.arch === 'x64' ? 1 : 64;
      assert.equal(Number(libc().syscall(nr, fd, inPlaceAddress(view), view.length, 0, 0)), 8);
      assert.equal(readFileSync(`/proc/self/fd/${fd}`, 'latin1'), 'kexec-ts');
    } finally {
      closeSync(fd);
    }
  });

  it('ioctlRead: FileError without the device, SyscallError (ENOTTY) from a file that is no device', () => {
    assert.throws(() => realSys().ioctlRead('/dev/kexec-ts-none', 0x4602, 80), FileError);
    assert.throws(
      () => realSys().ioctlRead('/proc/self/status', 0x4602, 80),
      (e: unknown) => e instanceof SyscallError && e.errno === 'ENOTTY',
    );
  });

  it('reads CAP_SYS_BOOT (bit 22) from CapEff', () => {
    assert.equal(hasCapability('CapInh:\t0\nCapEff:\t000001ffffffffff\n', 22), true);
    assert.equal(hasCapability('CapEff:\t0000000000000000\n', 22), false);
    assert.equal(hasCapability('CapEff:\t0000000000400000\n', 22), true);
    assert.equal(hasCapability('no such line', 22), false);
  });
});
