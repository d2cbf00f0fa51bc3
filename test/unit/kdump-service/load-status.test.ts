import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { defaultConfig } from '../../../src/kdump/service/config.js';
import type { PathKind, ServiceHost } from '../../../src/kdump/service/host.js';
import { captureCmdline, planKdumpLoad } from '../../../src/kdump/service/load.js';
import { kdumpStatus } from '../../../src/kdump/service/status.js';
import { FakeSys, type FakeSysOptions } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { KEXEC_FILE_ON_CRASH } from '../../../src/sys/types.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';

const KERNEL = buildBzImage({ fields: { cmdline_size: 2047 } });
const RUNNING =
  'BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=UUID=1234 ro console=ttyS0,115200 crashkernel=256M hugepages=64 nr_cpus=8 quiet\n';

function machine(over: FakeSysOptions = {}): FakeSys {
  return new FakeSys({
    ...over,
    files: {
      '/proc/sys/kernel/osrelease': '6.1.0-test\n',
      '/proc/cmdline': RUNNING,
      '/proc/iomem': '00100000-7ffdffff : System RAM\n  6f000000-7effffff : Crash kernel\n',
      '/sys/kernel/kexec_crash_size': '268435456\n',
      '/boot/vmlinuz-6.1.0-test': KERNEL,
      '/var/lib/kexec-ts/kdump-initrd.img': 'initrd',
      ...over.files,
    },
  });
}

function host(
  kinds: Record<string, PathKind> = { '/var/crash': 'dir' },
  readOnly: string[] = [],
): ServiceHost {
  return { kind: (p) => kinds[p] ?? 'missing', writable: (p) => !readOnly.includes(p) };
}

async function kdump(sys: FakeSys, ...args: string[]) {
  const io = captureIo();
  const code = await main(['kdump', ...args], { sys, io });
  return { code, out: io.out, err: io.err };
}

describe('kdump load', () => {
  it('the capture command line: running line minus BOOT_IMAGE/crashkernel/hugepages and APPEND params, then APPEND', () => {
    assert.equal(
      captureCmdline(RUNNING, 'irqpoll nr_cpus=1 reset_devices usbcore.nousb rootfstype=ramfs'),
      'root=UUID=1234 ro console=ttyS0,115200 quiet irqpoll nr_cpus=1 reset_devices usbcore.nousb rootfstype=ramfs',
    );
    assert.equal(captureCmdline('crashkernel=1G\n', ''), '');
    assert.equal(captureCmdline('log_buf_len=16M slub_debug=FZ ro', ''), 'ro', "RHEL's REMOVE list");
    assert.equal(captureCmdline('a="x y" crashkernel=384M-:128M b', 'c'), 'a="x y" b c');
  });

  it('REQUIRE_SIGNED=yes refuses an unsigned capture kernel before any syscall; TRUST_CERTS lets ours load', async () => {
    const unsigned = new Uint8Array(
      readFileSync('test/fixtures/real/vmlinuz-6.12.107+deb12-cloud-amd64.unsigned'),
    );
    const sys = machine({
      files: {
        '/boot/vmlinuz-6.1.0-test': unsigned,
        '/etc/kexec-ts/kdump.conf': 'REQUIRE_SIGNED=yes\n',
      },
    });
    const r = await kdump(sys, 'load');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /--require-signed: \/boot\/vmlinuz-6\.1\.0-test is refused: unsigned/);
    assert.deepEqual(
      sys.calls
        .map((c) => c.name)
        .filter((n) => ['kexecFileLoad', 'kexecLoad', 'openRead', 'memfdFromBytes'].includes(n)),
      [],
    );
    const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-kdump-signed-'));
    try {
      const out = join(dir, 'ours');
      execFileSync('sbsign', [
        '--key',
        'test/fixtures/sign/test-key.pem',
        '--cert',
        'test/fixtures/sign/test-cert.pem',
        '--output',
        out,
        'test/fixtures/real/vmlinuz-6.12.107+deb12-cloud-amd64.unsigned',
      ]);
      const ok = machine({
        files: {
          '/boot/vmlinuz-6.1.0-test': new Uint8Array(readFileSync(out)),
          '/etc/test.pem': readFileSync('test/fixtures/sign/test-cert.pem', 'utf8'),
          '/etc/kexec-ts/kdump.conf': 'REQUIRE_SIGNED=yes\nTRUST_CERTS=/etc/test.pem\n',
        },
      });
      const loaded = await kdump(ok, 'load');
      assert.equal(loaded.code, 0, loaded.err);
      assert.ok(ok.images.crash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--dry-run prints the plan and calls nothing', async () => {
    const sys = machine();
    const r = await kdump(sys, 'load', '--dry-run', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      dryRun: true,
      kernel: '/boot/vmlinuz-6.1.0-test',
      initrd: '/var/lib/kexec-ts/kdump-initrd.img',
      cmdline:
        'root=UUID=1234 ro console=ttyS0,115200 quiet irqpoll nr_cpus=1 reset_devices usbcore.nousb cgroup_disable=memory transparent_hugepage=never novmcoredd panic=10 rootfstype=ramfs',
    });
    assert.equal(sys.callsOf('kexecFileLoad').length, 0);
    const text = await kdump(sys, 'load', '--dry-run');
    assert.match(text.out, /would load .*\n {2}kernel {2}\/boot\/vmlinuz-6\.1\.0-test\n/);
  });

  it('loads through kexec_file_load with KEXEC_FILE_ON_CRASH, the config file applied; unload; status flips', async () => {
    const sys = machine({
      files: {
        '/etc/kexec-ts/kdump.conf': 'KERNEL=/boot/vmlinuz-6.1.0-test\nAPPEND="irqpoll nr_cpus=1 panic=5"\n',
      },
    });
    assert.equal((await kdump(sys, 'status')).code, 1);
    const r = await kdump(sys, 'load');
    assert.equal(r.code, 0, r.err);
    const call = sys.callsOf('kexecFileLoad')[0]!;
    assert.equal(call.args[2], 'root=UUID=1234 ro console=ttyS0,115200 quiet irqpoll nr_cpus=1 panic=5');
    assert.equal((call.args[3] as number) & KEXEC_FILE_ON_CRASH, KEXEC_FILE_ON_CRASH);
    assert.equal(Buffer.from(sys.images.crash!.initrd!).toString(), 'initrd');
    assert.equal(sys.readText('/sys/kernel/kexec_crash_loaded'), '1\n');
    const s = kdumpStatus(sys, host());
    assert.equal(s.protected, true, JSON.stringify(s.checks));
    assert.equal((await kdump(sys, 'unload')).code, 0);
    assert.equal(sys.readText('/sys/kernel/kexec_crash_loaded'), '0\n');
  });

  it('no reservation: load fails before any syscall, exit 1', async () => {
    const sys = machine({
      files: { '/proc/iomem': '00100000-7ffdffff : System RAM\n', '/sys/kernel/kexec_crash_size': '0\n' },
    });
    const r = await kdump(sys, 'load');
    assert.equal(r.code, 1);
    assert.match(r.err, /Memory for crashkernel is not reserved/);
    assert.equal(sys.callsOf('kexecFileLoad').length, 0);
  });

  it('a config error is reported with its line, exit 1', async () => {
    const sys = machine({ files: { '/etc/kexec-ts/kdump.conf': 'ACTION=reboot\nACTION=explode\n' } });
    const r = await kdump(sys, 'load', '--dry-run');
    assert.equal(r.code, 1);
    assert.match(r.err, /kdump\.conf:2: ACTION must be one of/);
  });
});

describe('kdump status verdicts', () => {
  const verdicts = (sys: FakeSys, h = host()) =>
    Object.fromEntries(kdumpStatus(sys, h).checks.map((c) => [c.id, c.verdict]));

  it('protected: every check ok; text output one line per check, exit 0', async () => {
    const sys = machine();
    sys.setText('/sys/kernel/kexec_crash_loaded', '1\n');
    const s = kdumpStatus(sys, host());
    assert.equal(s.protected, true);
    assert.deepEqual(verdicts(sys), {
      config: 'ok',
      reservation: 'ok',
      loaded: 'ok',
      kernel: 'ok',
      initrd: 'ok',
      target: 'ok',
    });
    assert.match(
      s.checks.find((c) => c.id === 'reservation')!.detail,
      /^256 MiB reserved \(crashkernel=256M\)/,
    );
  });

  it('not protected, and why, for each broken piece', () => {
    const loaded = (over: FakeSysOptions = {}) => {
      const m = machine(over);
      m.setText('/sys/kernel/kexec_crash_loaded', '1\n');
      return m;
    };
    const none = machine({ files: { '/proc/iomem': '', '/sys/kernel/kexec_crash_size': '0\n' } });
    const r = kdumpStatus(none, host());
    assert.equal(r.protected, false);
    assert.equal(verdicts(none).reservation, 'fail');
    assert.match(r.reason, /crash memory, crash kernel loaded/);
    assert.equal(verdicts(machine()).loaded, 'fail');
    const noInitrd = loaded();
    noInitrd.files.delete('/var/lib/kexec-ts/kdump-initrd.img');
    assert.equal(verdicts(noInitrd).initrd, 'fail');
    assert.match(kdumpStatus(noInitrd, host()).checks.find((c) => c.id === 'initrd')!.hint!, /build-initrd/);
    const noKernel = loaded();
    noKernel.files.delete('/boot/vmlinuz-6.1.0-test');
    assert.equal(verdicts(noKernel).kernel, 'fail');
    assert.equal(verdicts(loaded(), host({})).target, 'fail');
    assert.equal(verdicts(loaded(), host({ '/var/crash': 'dir' }, ['/var/crash'])).target, 'fail');
    assert.equal(verdicts(loaded(), host({ '/var/crash': 'file' })).target, 'fail');
    const bad = loaded({ files: { '/etc/kexec-ts/kdump.conf': 'FOO=1\n' } });
    assert.deepEqual(Object.keys(verdicts(bad)), ['config', 'reservation', 'loaded']);
    assert.equal(kdumpStatus(bad, host()).protected, false);
    const level31 = { '/etc/kexec-ts/kdump.conf': 'DUMP_LEVEL=31\nTARGET=/dev/vdb\n' };
    const warn = loaded({
      files: {
        ...level31,
        '/proc/sys/kernel/osrelease': '5.10.0-28-amd64\n',
        '/boot/vmlinuz-5.10.0-28-amd64': KERNEL,
      },
    });
    const w = kdumpStatus(warn, host({ '/dev/vdb': 'block' }));
    assert.equal(w.protected, true, 'a warning does not unprotect');
    assert.equal(verdicts(warn, host({ '/dev/vdb': 'block' })).config, 'warn');
    assert.match(w.checks.find((c) => c.id === 'config')!.hint!, /not 5\.10\.0-28-amd64: a lower level/);
    // The running kernel (6.1.0-test) is in the verified table: level 31 is applied as asked.
    assert.equal(verdicts(loaded({ files: level31 }), host({ '/dev/vdb': 'block' })).config, 'ok');
  });

  it('kexec-ts kdump status exits 1 with one line per check when not protected', async () => {
    const r = await kdump(machine(), 'status');
    assert.equal(r.code, 1);
    assert.match(r.out, /^FAIL {2}crash kernel loaded {2}no \(kexec_crash_loaded = 0\)$/m);
    assert.match(r.out, /hint: kexec-ts kdump load/);
    assert.match(r.out, /protected: no \(failed: crash kernel loaded/);
    const j = JSON.parse((await kdump(machine(), 'status', '--json')).out);
    assert.equal(j.protected, false);
  });

  it('plan without KERNEL uses /boot/vmlinuz-$(uname -r)', () => {
    assert.equal(planKdumpLoad(machine(), defaultConfig()).kernel, '/boot/vmlinuz-6.1.0-test');
  });
});
