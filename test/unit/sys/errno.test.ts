import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SyscallError } from '../../../src/errors.js';
import {
  ERRNO_NAMES,
  errnoHint,
  errnoName,
  errnoValue,
  FALLBACK_ERRNOS,
  kexecFileLoadArgs,
  syscallError,
} from '../../../src/sys/errno.js';

// include/uapi/asm-generic/errno-base.h and errno.h
const EXPECTED: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  ENOEXEC: 8,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  ENOSYS: 38,
  ENOPKG: 65,
  EBADMSG: 74,
  ELIBBAD: 80,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ENOTSUP: 95,
  EADDRNOTAVAIL: 99,
  ENOKEY: 126,
  EKEYREJECTED: 129,
};

describe('errno table', () => {
  it('has the generic Linux values', () => {
    for (const [name, value] of Object.entries(EXPECTED)) assert.equal(errnoValue(name), value, name);
  });
  it('names numbers canonically and round-trips', () => {
    assert.equal(errnoName(95), 'EOPNOTSUPP');
    assert.equal(errnoName(11), 'EAGAIN');
    assert.equal(errnoName(4242), 'E4242');
    assert.equal(errnoValue('E4242'), 4242);
    assert.equal(errnoValue('ENOTANERRNO'), undefined);
    for (const [value, name] of Object.entries(ERRNO_NAMES)) assert.equal(errnoValue(name), Number(value));
  });
  it('matches the host headers when they are installed', (t) => {
    let text: string;
    try {
      text = ['errno-base.h', 'errno.h']
        .map((f) => readFileSync(`/usr/include/asm-generic/${f}`, 'utf8'))
        .join('\n');
    } catch {
      t.skip('no /usr/include/asm-generic');
      return;
    }
    let n = 0;
    for (const m of text.matchAll(/^#define\s+(E\w+)\s+(\d+)/gm)) {
      assert.equal(errnoValue(m[1]!), Number(m[2]), m[1]);
      n++;
    }
    assert.ok(n > 100);
  });
  it('falls back on exactly the kexec-tools set', () => {
    assert.deepEqual([...FALLBACK_ERRNOS].sort(), ['EINVAL', 'ENOEXEC', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP']);
    assert.ok(!FALLBACK_ERRNOS.has('EPERM'));
    assert.ok(!FALLBACK_ERRNOS.has('EKEYREJECTED'));
  });
});

describe('hints', () => {
  const fileLoad = [
    'EPERM',
    'ENOEXEC',
    'EINVAL',
    'ENOTSUP',
    'EOPNOTSUPP',
    'EKEYREJECTED',
    'EBADMSG',
    'ENOKEY',
    'ENOPKG',
    'ELIBBAD',
    'EMSGSIZE',
    'EBUSY',
    'ENOMEM',
    'EADDRNOTAVAIL',
    'ENOSYS',
  ];
  it('exist for every errno kernel/kexec_file.c can return from kexec_file_load', () => {
    for (const e of fileLoad) assert.ok(errnoHint('kexec_file_load', e), e);
  });
  it('exist for every kexec_load errno', () => {
    for (const e of ['EPERM', 'EACCES', 'EINVAL', 'EADDRNOTAVAIL', 'EBUSY', 'ENOMEM', 'EFAULT', 'ENOSYS']) {
      assert.ok(errnoHint('kexec_load', e), e);
    }
  });
  it('say what to check', () => {
    assert.match(errnoHint('kexec_file_load', 'EPERM')!, /kexec_load_disabled/);
    assert.match(errnoHint('kexec_file_load', 'EPERM')!, /lockdown/);
    assert.match(errnoHint('kexec_load', 'EPERM')!, /lockdown/);
    assert.match(errnoHint('kexec_load', 'EACCES')!, /IMA.*-s/s);
    assert.match(errnoHint('kexec_file_load', 'ENOEXEC')!, /kexec-ts inspect/);
    assert.match(errnoHint('kexec_file_load', 'EKEYREJECTED')!, /sign/);
    assert.match(errnoHint('kexec_file_load', 'EADDRNOTAVAIL')!, /crashkernel/);
    assert.match(errnoHint('kexec_file_load', 'ENOSYS')!, /CONFIG_KEXEC_FILE.*doctor/s);
    assert.match(errnoHint('kexec_load', 'ENOSYS')!, /CONFIG_KEXEC\b/);
    assert.equal(errnoHint('open', 'ENOENT'), undefined);
  });
});

describe('syscallError', () => {
  it('reads like the failed call', () => {
    const err = syscallError('kexec_file_load', kexecFileLoadArgs(3, -1, 1, 0x4), 38);
    assert.ok(err instanceof SyscallError);
    assert.equal(
      err.message,
      'kexec_file_load(kernel_fd=3, initrd_fd=-1, cmdline_len=1, flags=0x4) = ENOSYS (Function not implemented)',
    );
    assert.equal(err.errno, 'ENOSYS');
    assert.equal(err.errnoValue, 38);
    assert.equal(err.syscall, 'kexec_file_load');
    assert.match(err.hint!, /CONFIG_KEXEC_FILE/);
  });
  it('accepts a name', () => {
    const err = syscallError('kexec_load', 'x', 'EACCES');
    assert.equal(err.errnoValue, 13);
    assert.match(err.hint!, /IMA/);
  });
});
