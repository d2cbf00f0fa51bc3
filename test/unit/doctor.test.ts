import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type DoctorReport, formatDoctor, runDoctor } from '../../src/kexec/doctor.js';
import { FakeSys, type FakeSysOptions } from '../../src/sys/fake.js';
import { realSys } from '../../src/sys/index.js';

const CONFIG = `CONFIG_KEXEC=y
CONFIG_KEXEC_FILE=y
CONFIG_KEXEC_SIG=y
# CONFIG_KEXEC_SIG_FORCE is not set
CONFIG_CRASH_DUMP=y
`;

/** A healthy root-run x86_64 box with 256 MiB reserved for kdump; `over` changes one thing. */
function machine(over: FakeSysOptions = {}): FakeSys {
  return new FakeSys({
    ...over,
    files: {
      '/proc/sys/kernel/osrelease': '6.12.0-test\n',
      '/proc/config.gz': gzipSync(CONFIG),
      '/proc/sys/kernel/kexec_load_disabled': '0\n',
      '/proc/sys/kernel/kexec_load_limit_reboot': '-1\n',
      '/proc/sys/kernel/kexec_load_limit_panic': '-1\n',
      '/sys/kernel/security/lockdown': '[none] integrity confidentiality\n',
      '/proc/iomem': '00100000-7ffdffff : System RAM\n  6f000000-7effffff : Crash kernel\n',
      '/sys/kernel/kexec_crash_size': '268435456\n',
      '/proc/cmdline': 'root=/dev/vda crashkernel=256M\n',
      ...over.files,
    },
  });
}

const check = (r: DoctorReport, id: string) => {
  const c = r.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
};

describe('doctor on a fake machine', () => {
  it('says yes to both on a healthy machine', () => {
    const r = runDoctor(machine());
    assert.equal(check(r, 'kernel-config').detail, 'read from /proc/config.gz');
    assert.equal(check(r, 'config-kexec-file').verdict, 'ok');
    assert.equal(check(r, 'cap-sys-boot').verdict, 'ok');
    assert.equal(check(r, 'kexec-load-disabled').verdict, 'ok');
    assert.equal(check(r, 'kexec-load-limit-reboot').detail, 'unlimited');
    assert.equal(check(r, 'lockdown').verdict, 'ok');
    assert.equal(check(r, 'secure-boot').detail, 'not an EFI system');
    assert.equal(check(r, 'crashkernel').verdict, 'ok');
    assert.match(check(r, 'crashkernel').detail, /256 MiB/);
    assert.match(check(r, 'loaded').detail, /kernel: no; crash kernel: no/);
    assert.deepEqual(r.kexec.answer, 'yes');
    assert.deepEqual(r.kdump.answer, 'yes');
    assert.ok(r.checks.every((c) => c.verdict === 'ok' || c.verdict === 'info'));
    JSON.stringify(r); // the CLI prints it for --json: no bigint may hide inside
  });
  it('reads /boot/config-<release> when /proc/config.gz is absent', () => {
    const sys = machine();
    sys.files.delete('/proc/config.gz');
    sys.setText('/boot/config-6.12.0-test', CONFIG);
    assert.equal(check(runDoctor(sys), 'kernel-config').detail, 'read from /boot/config-6.12.0-test');
  });
  it('says maybe when no config is found', () => {
    const sys = machine();
    sys.files.delete('/proc/config.gz');
    const r = runDoctor(sys);
    assert.equal(check(r, 'kernel-config').verdict, 'warn');
    assert.match(check(r, 'config-kexec-file').detail, /unknown/);
    assert.equal(r.kexec.answer, 'maybe');
  });
  it('fails when the kernel has no kexec syscalls', () => {
    const r = runDoctor(machine({ files: { '/proc/config.gz': gzipSync('# CONFIG_KEXEC is not set\n') } }));
    assert.equal(check(r, 'config-kexec-file').verdict, 'fail');
    assert.equal(check(r, 'config-kexec').verdict, 'fail');
    assert.equal(r.kexec.answer, 'no');
    assert.equal(r.kdump.answer, 'no');
  });
  it('fails with a hint when kexec_load_disabled=1', () => {
    const r = runDoctor(machine({ files: { '/proc/sys/kernel/kexec_load_disabled': '1\n' } }));
    const c = check(r, 'kexec-load-disabled');
    assert.equal(c.verdict, 'fail');
    assert.match(c.hint!, /until reboot/);
    assert.equal(r.kexec.answer, 'no');
    assert.equal(r.kdump.answer, 'no');
  });
  it('fails without CAP_SYS_BOOT', () => {
    const r = runDoctor(machine({ capSysBoot: false }));
    assert.equal(check(r, 'cap-sys-boot').verdict, 'fail');
    assert.match(r.kexec.reason, /CAP_SYS_BOOT/);
  });
  it('separates the reboot and panic load limits', () => {
    const r = runDoctor(machine({ files: { '/proc/sys/kernel/kexec_load_limit_reboot': '0\n' } }));
    assert.equal(check(r, 'kexec-load-limit-reboot').verdict, 'fail');
    assert.equal(r.kexec.answer, 'no');
    assert.equal(r.kdump.answer, 'yes');
  });
  it('warns under lockdown integrity: only signed kernels', () => {
    const r = runDoctor(
      machine({
        files: { '/sys/kernel/security/lockdown': 'none [integrity] confidentiality\n' },
        dirs: ['/sys/firmware/efi/efivars'],
      }),
    );
    const c = check(r, 'lockdown');
    assert.equal(c.verdict, 'warn');
    assert.equal(c.detail, 'integrity');
    assert.match(c.hint!, /sign/);
    assert.equal(check(r, 'secure-boot').detail, 'unknown');
    assert.equal(r.kexec.answer, 'maybe');
    assert.match(r.kexec.reason, /signed/);
  });
  it('reports Secure Boot from efivars', () => {
    const sb = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';
    const r = runDoctor(machine({ files: { [sb]: new Uint8Array([6, 0, 0, 0, 1]) } }));
    assert.equal(check(r, 'secure-boot').verdict, 'warn');
    assert.equal(check(r, 'secure-boot').detail, 'enabled');
  });
  it('says no kdump without a crashkernel reservation', () => {
    const r = runDoctor(
      machine({
        files: { '/proc/iomem': '', '/sys/kernel/kexec_crash_size': '0\n', '/proc/cmdline': 'ro\n' },
      }),
    );
    const c = check(r, 'crashkernel');
    assert.equal(c.verdict, 'warn');
    assert.match(c.hint!, /crashkernel=/);
    assert.equal(r.kexec.answer, 'yes');
    assert.equal(r.kdump.answer, 'no');
  });
  it('fails when crashkernel= was asked for but nothing was reserved', () => {
    const r = runDoctor(machine({ files: { '/proc/iomem': '', '/sys/kernel/kexec_crash_size': '0\n' } }));
    assert.equal(check(r, 'crashkernel').verdict, 'fail');
    assert.match(check(r, 'crashkernel').hint!, /dmesg/);
  });
  it('trusts zeroed iomem ranges as a reservation when sysfs is silent (non-root view)', () => {
    const sys = machine({ files: { '/proc/iomem': '00000000-00000000 : Crash kernel\n' } });
    sys.files.delete('/sys/kernel/kexec_crash_size');
    const c = check(runDoctor(sys), 'crashkernel');
    assert.equal(c.verdict, 'ok');
    assert.match(c.detail, /hidden/);
  });
  it('shows what is loaded', () => {
    const sys = machine();
    sys.kexecLoad(0x100000n, [{ buf: new Uint8Array(1), mem: 0x100000n, memsz: 0x1000n }], 0);
    assert.match(check(runDoctor(sys), 'loaded').detail, /kernel: yes; crash kernel: no/);
  });
  it('formats an aligned table with hints and the two answers', () => {
    const text = formatDoctor(
      runDoctor(machine({ files: { '/proc/sys/kernel/kexec_load_disabled': '1\n' } })),
    );
    const lines = text.split('\n');
    assert.match(lines[0]!, /^kexec-ts doctor: x86_64, Linux 6\.12\.0-test$/);
    const fail = lines.findIndex((l) => l.startsWith('FAIL'));
    assert.match(lines[fail]!, /^FAIL {2}kexec_load_disabled +1: all kexec loads are refused$/);
    assert.match(lines[fail + 1]!, /^ +hint: /);
    const detailCol = lines[2]!.indexOf('read from');
    assert.equal(lines[fail]!.indexOf('1: all'), detailCol);
    assert.match(text, /\ncan kexec: no \(kernel\.kexec_load_disabled=1\)\ncan kdump: no /);
  });
});

describe('doctor: what enforces kexec signatures (fake machine states)', () => {
  it('a plain machine: not enforced, IMA rule absent', () => {
    const r = runDoctor(
      machine({ files: { '/sys/kernel/security/ima/policy': 'measure func=KEXEC_KERNEL_CHECK\n' } }),
    );
    assert.equal(check(r, 'ima-kexec').detail, 'no appraise rule for KEXEC_KERNEL_CHECK');
    assert.equal(check(r, 'signature-enforcement').verdict, 'ok');
    assert.match(
      check(r, 'signature-enforcement').detail,
      /^not enforced: no lockdown, no CONFIG_KEXEC_SIG_FORCE/,
    );
    assert.equal(r.kexec.answer, 'yes');
  });

  it('lockdown=integrity: enforced, kexec_load refused with EPERM, can kexec only signed', () => {
    const r = runDoctor(
      machine({ files: { '/sys/kernel/security/lockdown': 'none [integrity] confidentiality\n' } }),
    );
    assert.equal(check(r, 'lockdown').detail, 'integrity');
    const e = check(r, 'signature-enforcement');
    assert.equal(e.verdict, 'warn');
    assert.match(
      e.detail,
      /^enforced: lockdown is "integrity"; kexec_load refused: lockdown is "integrity" \(kexec_load gets EPERM, or EACCES when IMA appraises kexec images\)/,
    );
    assert.match(e.hint!, /kexec-ts verify/);
    assert.equal(r.kexec.answer, 'maybe');
    assert.match(r.kexec.reason, /signed by a trusted key/);
  });

  it('KEXEC_SIG_FORCE: enforced for kexec_file_load, kexec_load not refused', () => {
    const config = CONFIG.replace('# CONFIG_KEXEC_SIG_FORCE is not set', 'CONFIG_KEXEC_SIG_FORCE=y');
    const r = runDoctor(machine({ files: { '/proc/config.gz': gzipSync(config) } }));
    assert.match(check(r, 'config-kexec-sig').detail, /CONFIG_KEXEC_SIG_FORCE=y/);
    assert.match(check(r, 'signature-enforcement').detail, /^enforced: CONFIG_KEXEC_SIG_FORCE=y$/);
  });

  it('IMA appraises kexec images: warned, kexec_load gets EACCES', () => {
    const policy =
      'measure func=KEXEC_KERNEL_CHECK\nappraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig\n';
    const r = runDoctor(machine({ files: { '/sys/kernel/security/ima/policy': policy } }));
    assert.equal(check(r, 'ima-kexec').verdict, 'warn');
    assert.match(
      check(r, 'signature-enforcement').detail,
      /IMA appraises kexec images \(kexec_load gets EACCES\)/,
    );
  });

  it('Secure Boot on with the IMA arch policy and an unreadable IMA policy', () => {
    const config = `${CONFIG}CONFIG_IMA_ARCH_POLICY=y\n`;
    const r = runDoctor(
      machine({
        dirs: ['/sys/firmware/efi'],
        files: {
          '/proc/config.gz': gzipSync(config),
          '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c': new Uint8Array([
            6, 0, 0, 0, 1,
          ]),
        },
      }),
    );
    assert.equal(check(r, 'secure-boot').detail, 'enabled');
    assert.match(check(r, 'ima-kexec').detail, /not readable/);
    assert.match(check(r, 'signature-enforcement').detail, /Secure Boot is on and CONFIG_IMA_ARCH_POLICY=y/);
  });

  it('kexec_load_disabled=1 fails both', () => {
    const r = runDoctor(machine({ files: { '/proc/sys/kernel/kexec_load_disabled': '1\n' } }));
    assert.equal(check(r, 'kexec-load-disabled').verdict, 'fail');
    assert.equal(r.kexec.answer, 'no');
  });
});

describe('doctor on this host', () => {
  it('runs without throwing and returns a well-formed report', () => {
    const r = runDoctor(realSys());
    assert.ok(r.checks.length >= 8);
    for (const c of r.checks) {
      assert.ok(['ok', 'warn', 'fail', 'info'].includes(c.verdict), c.id);
      assert.equal(typeof c.title, 'string');
      assert.equal(typeof c.detail, 'string');
    }
    assert.ok(['yes', 'maybe', 'no'].includes(r.kexec.answer));
    assert.ok(['yes', 'maybe', 'no'].includes(r.kdump.answer));
    assert.match(formatDoctor(r), /can kexec: /);
    JSON.parse(JSON.stringify(r));
  });
});
