import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveInvocation } from '../../../src/cli/invocation.js';
import { parseArgv } from '../../../src/cli/parse-argv.js';
import { UsageError } from '../../../src/errors.js';

const inv = (...argv: string[]) => resolveInvocation(parseArgv(argv));

describe('parseArgv: getopt_long spellings', () => {
  const cases: [string[], string, string | undefined][] = [
    [['--initrd=/i'], 'initrd', '/i'],
    [['--initrd', '/i'], 'initrd', '/i'],
    [['--ramdisk=/i'], 'initrd', '/i'],
    [['--init=/i'], 'initrd', '/i'],
    [['--append=a b'], 'command-line', 'a b'],
    [['--command-line', 'x'], 'command-line', 'x'],
    [['-tbzImage64'], 'type', 'bzImage64'],
    [['-t', 'bzImage64'], 'type', 'bzImage64'],
    [['--type=elf-x86_64'], 'type', 'elf-x86_64'],
  ];
  for (const [argv, id, value] of cases) {
    it(argv.join(' '), () => {
      const { options } = parseArgv(argv);
      assert.equal(options.length, 1);
      assert.equal(options[0]!.spec.id, id);
      assert.equal(options[0]!.value, value);
    });
  }
  it('clusters short options and permutes operands', () => {
    const p = parseArgv(['-sl', '/boot/vmlinuz', '-d', '--', '-weird']);
    assert.deepEqual(
      p.options.map((o) => o.spec.id),
      ['file-syscall', 'load', 'debug'],
    );
    assert.deepEqual(p.operands, ['/boot/vmlinuz', '-weird']);
  });
  it('rejects unknown options, missing values and ambiguous prefixes', () => {
    assert.throws(() => parseArgv(['--bogus']), /unrecognized option '--bogus'/);
    assert.throws(() => parseArgv(['-Z']), /invalid option -- 'Z'/);
    assert.throws(() => parseArgv(['--initrd']), /requires an argument/);
    assert.throws(() => parseArgv(['--re']), /ambiguous/);
    assert.throws(() => parseArgv(['--load=x']), /doesn't allow an argument/);
  });
});

describe('resolveInvocation: kexec-tools action semantics', () => {
  it('-l K loads and syncs, no exec, no shutdown', () => {
    const i = inv('-l', 'K');
    assert.deepEqual(
      [i.load, i.exec, i.shutdown, i.sync, i.ifdown, i.kernel],
      [true, false, false, true, false, 'K'],
    );
  });
  it('plain KERNEL loads and hands over to the init system', () => {
    const i = inv('K');
    assert.equal(i.load, true);
    assert.equal(i.shutdown, true);
    assert.equal(i.exec, false);
  });
  it('-e syncs, takes interfaces down and execs; -x and -y skip steps; --force-sync wins over -y', () => {
    assert.deepEqual(
      [inv('-e').sync, inv('-e').ifdown, inv('-e').exec, inv('-e').load],
      [true, true, true, false],
    );
    assert.deepEqual([inv('-e', '-x').ifdown, inv('-e', '-y').sync], [false, false]);
    assert.equal(inv('-y', '-e', '--force-sync').sync, true);
    assert.equal(inv('--force-sync', '-y', '-e').sync, true);
  });
  it('-f loads and execs', () => {
    const i = inv('-f', 'K');
    assert.deepEqual([i.load, i.exec, i.ifdown, i.shutdown], [true, true, true, false]);
  });
  it('-p is a crash load without sync; -p -u unloads the crash kernel; so does -u -p', () => {
    const p = inv('-p', 'K');
    assert.deepEqual([p.crash, p.load, p.sync, p.exec], [true, true, false, false]);
    for (const argv of [
      ['-p', '-u'],
      ['-u', '-p'],
    ]) {
      const u = inv(...argv);
      assert.deepEqual([u.crash, u.unload, u.load], [true, true, false], argv.join(' '));
    }
  });
  it('-S reports the crash image, -S -l the normal one', () => {
    assert.equal(inv('-S').mode, 'status');
    assert.equal(inv('-S').statusOfNormal, false);
    assert.equal(inv('-S', '-l').statusOfNormal, true);
    assert.equal(inv('-S', '-p').statusOfNormal, false);
  });
  it('--append and --command-line are one option, last wins', () => {
    assert.equal(inv('-l', 'K', '--append=a', '--command-line=b').append, 'b');
    assert.equal(inv('-l', 'K', '--command-line=b', '--append=a').append, 'a');
  });
  it('syscall choice: default auto, -s file, -c load, last wins', () => {
    assert.equal(inv('-l', 'K').syscall, 'auto');
    assert.equal(inv('-s', '-l', 'K').syscall, 'file');
    assert.equal(inv('-c', '-l', 'K').syscall, 'load');
    assert.equal(inv('-c', '-a', '-l', 'K').syscall, 'auto');
  });
});

describe('resolveInvocation: refuses what kexec-tools does surprisingly', () => {
  const bad: [string[], RegExp][] = [
    [['-l', 'K', '-e'], /would be ignored/],
    [['-e', 'K'], /would be ignored/],
    [['-e', '-l', 'K'], /take the network down and not reboot/],
    [['-l'], /no kernel given/],
    [[], /nothing to do/],
    [['-l', 'K', 'L'], /unexpected argument 'L'/],
    [['-u', 'K'], /nothing will load it/],
    [['--real-mode', '-l', 'K'], /real-mode/],
    [['--elf32-core-headers', '-p', 'K'], /always ELF64/],
  ];
  for (const [argv, re] of bad) {
    it(argv.join(' ') || '(no arguments)', () => {
      assert.throws(
        () => inv(...argv),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    });
  }
  it('accepts --elf64-core-headers and kexec_load-only options with a note', () => {
    const i = inv(
      '-p',
      'K',
      '--elf64-core-headers',
      '--console-serial',
      '--serial=ttyS0',
      '--mem-min=0x1000',
    );
    assert.equal(i.notes.length, 4);
  });
});
