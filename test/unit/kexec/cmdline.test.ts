import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCmdline, removeParam, splitParams } from '../../../src/kexec/cmdline.js';

const RUNNING =
  'BOOT_IMAGE=/boot/vmlinuz-6.1.0 root=UUID=1234 ro console=tty0 console=ttyS0,115200n8 crashkernel=256M quiet\n';

describe('command line construction', () => {
  it('splits like the kernel: quotes group words', () => {
    assert.deepEqual(splitParams('a  b="x y" c'), ['a', 'b="x y"', 'c']);
  });
  it('removes every occurrence of a parameter', () => {
    assert.equal(
      removeParam('crashkernel=1G a crashkernel=2G b crashkernelx=1', 'crashkernel'),
      'a b crashkernelx=1',
    );
  });
  it('--reuse-cmdline drops BOOT_IMAGE, keeps crashkernel for -l', () => {
    const line = buildCmdline({ reuseCmdline: true, reuseConsole: false, crash: false }, RUNNING);
    assert.equal(line, 'root=UUID=1234 ro console=tty0 console=ttyS0,115200n8 crashkernel=256M quiet');
  });
  it('--reuse-cmdline with -p also drops crashkernel, then appends', () => {
    const line = buildCmdline(
      { reuseCmdline: true, reuseConsole: false, crash: true, append: 'irqpoll nr_cpus=1' },
      RUNNING,
    );
    assert.equal(line, 'root=UUID=1234 ro console=tty0 console=ttyS0,115200n8 quiet irqpoll nr_cpus=1');
  });
  it('--reuse-console carries console= when the new line has none', () => {
    assert.equal(
      buildCmdline(
        { reuseCmdline: false, reuseConsole: true, crash: false, append: 'root=/dev/vda' },
        RUNNING,
      ),
      'root=/dev/vda console=tty0 console=ttyS0,115200n8',
    );
  });
  it('--reuse-console keeps the new console= when one is given', () => {
    assert.equal(
      buildCmdline(
        { reuseCmdline: false, reuseConsole: true, crash: false, append: 'console=hvc0' },
        RUNNING,
      ),
      'console=hvc0',
    );
  });
  it('an empty request gives an empty line', () => {
    assert.equal(buildCmdline({ reuseCmdline: false, reuseConsole: false, crash: false }, RUNNING), '');
  });
});
