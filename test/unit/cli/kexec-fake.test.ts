// The kexec-tools surface end to end against FakeSys: what was asked of the kernel, in what order,
// what was printed and the exit code. No test here can touch the real kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { main } from '../../../src/cli/main.js';
import { FakeSys, type FakeSysOptions } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import {
  KEXEC_FILE_NO_INITRAMFS,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_UNLOAD,
  LINUX_REBOOT_CMD_KEXEC,
} from '../../../src/sys/types.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { zstdCompressSync } from '../../helpers/zstd.js';

const KERNEL = buildBzImage({ fields: { cmdline_size: 2047 } });
const INITRD = new Uint8Array([0x30, 0x37, 0x30, 0x37, 0x30, 0x31, 1, 2, 3]);
const IOMEM_CRASH =
  '00000000-00000fff : Reserved\n00100000-7ffdffff : System RAM\n  2b000000-3affffff : Crash kernel\n';
const CMDLINE = 'BOOT_IMAGE=/vmlinuz-6.1 root=/dev/vda ro console=ttyS0,115200 crashkernel=256M\n';

function machine(extra: FakeSysOptions = {}): FakeSys {
  return new FakeSys({
    interfaces: [
      { name: 'lo', up: true },
      { name: 'eth0', up: true },
      { name: 'eth0:1', up: true },
      { name: 'wlan0', up: false },
    ],
    which: { systemctl: '/usr/bin/systemctl', shutdown: '/usr/sbin/shutdown' },
    ...extra,
    files: {
      '/boot/vmlinuz': KERNEL,
      '/boot/initrd.img': INITRD,
      '/proc/cmdline': CMDLINE,
      '/proc/iomem': IOMEM_CRASH,
      ...extra.files,
    },
  });
}

async function run(sys: FakeSys, ...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, { sys, io });
  return { code, out: io.out, err: io.err, names: sys.calls.map((c) => c.name) };
}

const kernelCalls = (names: string[]) =>
  names.filter((n) => ['kexecFileLoad', 'kexecLoad', 'sync', 'ifdown', 'reboot', 'spawn'].includes(n));

describe('kexec-ts -l / -e against a fake kernel', () => {
  it('-l loads the original file with initrd and command line, then syncs', async () => {
    const sys = machine();
    const r = await run(
      sys,
      '-l',
      '/boot/vmlinuz',
      '--initrd=/boot/initrd.img',
      '--append=root=/dev/vda "a b"',
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad', 'sync']);
    const [, , cmdline, flags] = sys.callsOf('kexecFileLoad')[0]!.args;
    assert.equal(cmdline, 'root=/dev/vda "a b"');
    assert.equal(flags, 0);
    assert.deepEqual(sys.images.normal?.kernel, KERNEL);
    assert.deepEqual(sys.images.normal?.initrd, INITRD);
    assert.equal(sys.callsOf('memfdFromBytes').length, 0, 'an uncompressed kernel is passed as its own fd');
    assert.equal(sys.readText('/sys/kernel/kexec_loaded')?.trim(), '1');
  });
  it('-y skips the sync; no initrd sets KEXEC_FILE_NO_INITRAMFS', async () => {
    const sys = machine();
    const r = await run(sys, '-y', '-l', '/boot/vmlinuz');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad']);
    assert.equal(sys.callsOf('kexecFileLoad')[0]!.args[3], KEXEC_FILE_NO_INITRAMFS);
  });
  for (const [name, compress] of [
    ['gzip', gzipSync],
    ['zstd', zstdCompressSync],
  ] as const) {
    it(`a ${name}-compressed kernel is decompressed into a memfd`, async () => {
      const sys = machine({ files: { '/boot/vmlinuz.z': new Uint8Array(compress(KERNEL)) } });
      const r = await run(sys, '-l', '/boot/vmlinuz.z');
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(sys.callsOf('memfdFromBytes')[0]!.args, ['kernel', KERNEL.length]);
      assert.deepEqual(sys.images.normal?.kernel, KERNEL);
    });
  }
  it('--reuse-cmdline drops BOOT_IMAGE and keeps crashkernel for -l', async () => {
    const sys = machine();
    const r = await run(sys, '-l', '/boot/vmlinuz', '--reuse-cmdline', '--append=quiet');
    assert.equal(r.code, 0, r.err);
    assert.equal(sys.images.normal?.cmdline, 'root=/dev/vda ro console=ttyS0,115200 crashkernel=256M quiet');
  });
  it('-e after -l: sync, every up interface but lo and aliases down, then reboot(KEXEC)', async () => {
    const sys = machine();
    await run(sys, '-l', '/boot/vmlinuz');
    sys.calls.length = 0;
    const r = await run(sys, '-e');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['sync', 'ifdown', 'reboot']);
    assert.deepEqual(sys.callsOf('ifdown')[0]!.args, ['eth0']);
    assert.deepEqual(sys.callsOf('reboot')[0]!.args, [LINUX_REBOOT_CMD_KEXEC]);
  });
  it('-e -x -y goes straight to reboot; --force-sync still syncs', async () => {
    const sys = machine();
    await run(sys, '-l', '/boot/vmlinuz');
    sys.calls.length = 0;
    assert.deepEqual(kernelCalls((await run(sys, '-e', '-x', '-y')).names), ['reboot']);
    sys.calls.length = 0;
    assert.deepEqual(kernelCalls((await run(sys, '-y', '-x', '-e', '--force-sync')).names), [
      'sync',
      'reboot',
    ]);
  });
  it('-e with nothing loaded fails before any sync or ifdown', async () => {
    const sys = machine();
    const r = await run(sys, '-e');
    assert.equal(r.code, 1);
    assert.match(r.err, /Nothing has been loaded!/);
    assert.deepEqual(kernelCalls(r.names), []);
  });
  it('-e on a kernel without kexec sysfs files fails before touching anything', async () => {
    const sys = machine({ kexecSysfs: false });
    const r = await run(sys, '-e');
    assert.equal(r.code, 1);
    assert.match(r.err, /kexec_loaded does not exist/);
    assert.deepEqual(kernelCalls(r.names), []);
  });
  it('-f loads, syncs, takes interfaces down and reboots in one run', async () => {
    const sys = machine();
    const r = await run(sys, '-f', '/boot/vmlinuz');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad', 'sync', 'ifdown', 'reboot']);
  });
  it('plain KERNEL loads and asks systemd for a kexec reboot', async () => {
    const sys = machine({ dirs: ['/run/systemd/system'] });
    const r = await run(sys, '/boot/vmlinuz');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad', 'spawn']);
    assert.deepEqual(sys.callsOf('spawn')[0]!.args[0], ['systemctl', 'kexec']);
  });
  it('plain KERNEL without systemd runs shutdown -r now', async () => {
    const sys = machine();
    await run(sys, '/boot/vmlinuz');
    assert.deepEqual(sys.callsOf('spawn')[0]!.args[0], ['shutdown', '-r', 'now']);
  });
});

describe('kexec-ts -p / -u / -S against a fake kernel', () => {
  it('-p loads on crash without sync; --reuse-cmdline drops crashkernel', async () => {
    const sys = machine();
    const r = await run(sys, '-p', '/boot/vmlinuz', '--reuse-cmdline', '--append=irqpoll nr_cpus=1');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad']);
    const [, , cmdline, flags] = sys.callsOf('kexecFileLoad')[0]!.args;
    assert.equal(flags, KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS);
    assert.equal(cmdline, 'root=/dev/vda ro console=ttyS0,115200 irqpoll nr_cpus=1');
    assert.equal((await run(sys, '-S')).code, 1, '-S exits 1 when a crash kernel is loaded');
    assert.equal((await run(sys, '-S', '-l')).code, 0, '-S -l looks at the normal image');
  });
  it('-p without a crashkernel reservation fails clearly and makes no syscall', async () => {
    const sys = machine({ files: { '/proc/iomem': '00100000-7ffdffff : System RAM\n' } });
    const r = await run(sys, '-p', '/boot/vmlinuz');
    assert.equal(r.code, 1);
    assert.match(r.err, /Memory for crashkernel is not reserved/);
    assert.match(r.err, /hint: .*crashkernel=/);
    assert.deepEqual(kernelCalls(r.names), []);
  });
  it('-u and -p -u unload with KEXEC_FILE_UNLOAD', async () => {
    const sys = machine();
    await run(sys, '-l', '/boot/vmlinuz');
    await run(sys, '-p', '/boot/vmlinuz');
    sys.calls.length = 0;
    assert.equal((await run(sys, '-p', '-u')).code, 0);
    assert.equal(sys.callsOf('kexecFileLoad')[0]!.args[3], KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH);
    assert.equal((await run(sys, '-S')).code, 0);
    assert.equal((await run(sys, '-u')).code, 0);
    assert.equal(sys.readText('/sys/kernel/kexec_loaded')?.trim(), '0');
  });
  it('-S exits 255 when the kernel has no kexec sysfs file; --json reports it', async () => {
    const sys = machine({ kexecSysfs: false });
    const r = await run(sys, '-S', '--json');
    assert.equal(r.code, 255);
    assert.deepEqual(JSON.parse(r.out), { file: '/sys/kernel/kexec_crash_loaded', loaded: null });
  });
  it('-u falls back to kexec_load when file load is missing (ENOSYS), as kexec-tools -a does', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'ENOSYS' } });
    const r = await run(sys, '-u');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad', 'kexecLoad']);
  });
});

describe('bad input: clear error, non-zero exit, no syscall', () => {
  const cases: [string, string[], FakeSysOptions, number, RegExp][] = [
    [
      'a file that is not a kernel',
      ['-l', '/etc/hostname'],
      { files: { '/etc/hostname': 'lab\n' } },
      255,
      /Cannot determine the file type of \/etc\/hostname/,
    ],
    ['a missing kernel', ['-l', '/boot/nope'], {}, 1, /open\("\/boot\/nope"\) = ENOENT/],
    [
      'a truncated kernel',
      ['-l', '/boot/short'],
      { files: { '/boot/short': KERNEL.subarray(0, 0x210) } },
      255,
      /Cannot determine the file type/,
    ],
    [
      'an over-long command line',
      ['-l', '/boot/vmlinuz', `--append=${'x'.repeat(2048)}`],
      {},
      1,
      /command line is 2048 bytes; \/boot\/vmlinuz accepts at most 2047/,
    ],
    ['an unknown option', ['--frobnicate'], {}, 1, /unrecognized option '--frobnicate'/],
    ['-l K -e', ['-l', '/boot/vmlinuz', '-e'], {}, 1, /would be ignored/],
    [
      '-s with an ELF-less x86 file type',
      ['-s', '-l', '/boot/vmlinuz.gz'],
      { files: { '/boot/vmlinuz.gz': new Uint8Array(gzipSync(Buffer.from('not a kernel'))) } },
      255,
      /Cannot determine the file type/,
    ],
  ];
  for (const [what, argv, opts, code, re] of cases) {
    it(what, async () => {
      const sys = machine(opts);
      const r = await run(sys, ...argv);
      assert.equal(r.code, code, r.err);
      assert.match(r.err, re);
      assert.deepEqual(kernelCalls(r.names), []);
      assert.equal(sys.readText('/sys/kernel/kexec_loaded')?.trim(), '0');
    });
  }
  it('a missing initrd fails before the syscall', async () => {
    const sys = machine();
    const r = await run(sys, '-l', '/boot/vmlinuz', '--initrd=/nope');
    assert.equal(r.code, 1);
    assert.match(r.err, /open\("\/nope"\) = ENOENT/);
    assert.deepEqual(kernelCalls(r.names), []);
  });
});

describe('syscall errors read like the call, with a hint and kexec-tools exit codes', () => {
  it('EPERM: exit 255, message names the call, hint names the causes, no fallback', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'EPERM' } });
    const r = await run(sys, '-l', '/boot/vmlinuz');
    assert.equal(r.code, 255);
    assert.match(
      r.err,
      /kexec_file_load\(kernel_fd=\d+, initrd_fd=-1, .*\) = EPERM \(Operation not permitted\)/,
    );
    assert.match(r.err, /hint: /);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad']);
  });
  it('EKEYREJECTED does not fall back either', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'EKEYREJECTED' } });
    const r = await run(sys, '-l', '/boot/vmlinuz');
    assert.equal(r.code, 255);
    assert.match(r.err, /EKEYREJECTED/);
  });
  it('-s with ENOEXEC exits 253 (kexec-tools EFALLBACK)', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'ENOEXEC' } });
    const r = await run(sys, '-s', '-l', '/boot/vmlinuz');
    assert.equal(r.code, 253);
    assert.match(r.err, /= ENOEXEC/);
  });
  it('--json prints the error as data', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'EBUSY' } });
    const r = await run(sys, '--json', '-l', '/boot/vmlinuz');
    const { error } = JSON.parse(r.err);
    assert.equal(error.code, 'E_SYSCALL');
    assert.equal(error.errno, 'EBUSY');
  });
});

describe('help and version', () => {
  it('--help lists every kexec-tools action and exits 0', async () => {
    const r = await run(machine(), '--help');
    assert.equal(r.code, 0);
    for (const s of [
      '-l, --load',
      '-e, --exec',
      '-p, --load-panic',
      '-u, --unload',
      '-S, --status',
      '--reuse-cmdline',
      '--reuse-console',
      '--force-sync',
      '--append=STRING',
    ]) {
      assert.ok(r.out.includes(s), s);
    }
  });
  it('-v prints the version', async () => {
    const r = await run(machine(), '-v');
    assert.match(r.out, /^kexec-ts \d+\.\d+\.\d+/);
  });
  it('every subcommand answers --help and -h with its usage, exit 0, and no kernel call', async () => {
    for (const [argv, want] of [
      [['vmcore', 'save', '--help'], /^Usage: kexec-ts vmcore save \[SRC\] DEST/],
      [['vmcore', 'save', '-d', '31', '-h'], /--non-mmap +read SRC with read\(\)/],
      [['vmcore', 'info', '--help'], /^Usage: kexec-ts vmcore info \[FILE\] \[--json\]\n/],
      [['vmcore', 'dmesg', '-h'], /dmesg \[FILE\] \[--json\]/],
      [['kdump', 'save', '--help'], /^Usage: kexec-ts kdump save \[OPTIONS\]\n/],
      [['kdump', 'status', '-h'], /^Usage: kexec-ts kdump status \[--config FILE\] \[--json\]\n/],
      [['doctor', '--help'], /^Usage: kexec-ts doctor \[--json\]/],
      [['inspect', '-h'], /^Usage: kexec-ts inspect FILE/],
      [['lab', 'setup', '--help'], /^Usage: kexec-ts lab setup \[--kernel PKG\]\n/],
    ] as const) {
      const sys = machine();
      const r = await run(sys, ...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.out, want, argv.join(' '));
      assert.equal(r.err, '', argv.join(' '));
      assert.deepEqual(kernelCalls(r.names), [], argv.join(' '));
    }
  });
  it('the save usage names every option the parser takes', async () => {
    const r = await run(machine(), 'vmcore', 'save', '--help');
    for (const o of [
      '-d, --dump-level',
      '-c ',
      '-l ',
      '-p ',
      '-z, --zstd',
      '--kdump',
      '-E ',
      '-F ',
      '--force',
      '--no-dmesg',
      '--non-mmap',
      '--split',
      '--json',
    ]) {
      assert.ok(r.out.includes(o), o);
    }
  });
});

describe('the kexec_load path (-c, and the default fallback)', () => {
  it('-c -l plans segments with our purgatory and calls kexec_load', async () => {
    const sys = machine();
    const r = await run(
      sys,
      '-c',
      '-l',
      '/boot/vmlinuz',
      '--initrd=/boot/initrd.img',
      '--append=root=/dev/vda',
      '-d',
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecLoad', 'sync']);
    const [entry, segments, flags] = sys.callsOf('kexecLoad')[0]!.args as [bigint, { mem: bigint }[], number];
    assert.equal(flags, 62 << 16, 'KEXEC_ARCH_X86_64');
    assert.ok(segments.length >= 4);
    assert.ok(
      segments.some((s) => s.mem <= entry),
      'entry lies in a segment',
    );
    assert.match(r.err, /purgatory/);
  });
  it('the default mode falls back to kexec_load when file load answers ENOEXEC', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'ENOEXEC' } });
    const r = await run(sys, '-d', '-l', '/boot/vmlinuz');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(kernelCalls(r.names), ['kexecFileLoad', 'kexecLoad', 'sync']);
    assert.match(r.err, /= ENOEXEC .*falling back to kexec_load/);
  });
  it('but not when it answers EPERM', async () => {
    const sys = machine({ failures: { kexecFileLoad: 'EPERM' } });
    assert.deepEqual(kernelCalls((await run(sys, '-l', '/boot/vmlinuz')).names), ['kexecFileLoad']);
  });
  it('-c -p without a readable /proc/kcore fails before any syscall and says why', async () => {
    const sys = machine();
    const r = await run(sys, '-c', '-p', '/boot/vmlinuz');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /open\("\/proc\/kcore"\) = ENOENT/);
    assert.match(r.err, /hint: .*kexec_file_load/);
    assert.deepEqual(kernelCalls(r.names), []);
  });
  it('--mem-min/--mem-max that leave no room name the size and the free ranges', async () => {
    const sys = machine();
    const r = await run(sys, '-c', '-l', '/boot/vmlinuz', '--mem-min=0x1000000', '--mem-max=0x1100000');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /no free memory for 0x[0-9a-f]+ bytes/);
    assert.deepEqual(kernelCalls(r.names), []);
  });
});
