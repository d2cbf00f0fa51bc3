import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import {
  DEFAULT_APPEND,
  DEFAULT_INITRD,
  defaultConfig,
  formatKdumpConfig,
  loadKdumpConfig,
  parseKdumpConfig,
  unsupportedDumpOptions,
} from '../../../src/kdump/service/config.js';

const P = '/etc/kexec-ts/kdump.conf';

function parseError(text: string): UsageError {
  try {
    parseKdumpConfig(text, P);
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e;
  }
  assert.fail('parsed');
}

describe('kdump.conf', () => {
  it('no file: the documented defaults', () => {
    const c = loadKdumpConfig(() => undefined);
    assert.deepEqual(c, defaultConfig());
    assert.equal(
      c.append,
      'irqpoll nr_cpus=1 reset_devices usbcore.nousb cgroup_disable=memory transparent_hugepage=never novmcoredd panic=10 rootfstype=ramfs',
    );
    assert.equal(c.nodeFrom, 'root', 'Node runs from the root file system: the smallest reservation');
    assert.equal(c.root, '', 'the running root');
    assert.equal(
      c.nodeArgs,
      '--max-old-space-size=32 --max-semi-space-size=1 --v8-pool-size=0 --single-threaded',
    );
    assert.equal(c.target, '/var/crash');
    assert.equal(c.initrd, DEFAULT_INITRD);
    assert.equal(c.kernel, undefined);
    assert.equal(c.action, 'reboot');
    assert.equal(c.format, 'elf');
    assert.equal(c.compression, 'none');
    assert.equal(c.dumpLevel, 0);
    assert.equal(unsupportedDumpOptions(c, '5.10.0-28-amd64'), undefined);
  });

  it('FORMAT, COMPRESSION and DUMP_LEVEL: implied format, kdump defaults lzo and 31, elf refuses both', () => {
    const pick = (text: string) => {
      const c = parseKdumpConfig(text, P);
      return [c.format, c.compression, c.dumpLevel];
    };
    assert.deepEqual(pick(''), ['elf', 'none', 0]);
    assert.deepEqual(pick('FORMAT=elf'), ['elf', 'none', 0]);
    assert.deepEqual(pick('FORMAT=kdump'), ['kdump', 'lzo', 31]);
    assert.deepEqual(pick('COMPRESSION=snappy'), ['kdump', 'snappy', 31]);
    assert.deepEqual(pick('DUMP_LEVEL=1'), ['kdump', 'lzo', 1]);
    assert.deepEqual(pick('FORMAT=kdump\nCOMPRESSION=none\nDUMP_LEVEL=0'), ['kdump', 'none', 0]);
    assert.deepEqual(pick('FORMAT=elf\nCOMPRESSION=none\nDUMP_LEVEL=0'), ['elf', 'none', 0]);
    assert.match(parseError('FORMAT=elf\nCOMPRESSION=zlib').message, /:2: FORMAT=elf copies every page/);
    assert.match(parseError('DUMP_LEVEL=31\nFORMAT=elf').message, /:1: FORMAT=elf copies every page/);
    assert.match(parseError('FORMAT=xz').message, /:1: FORMAT must be one of elf\|kdump, got 'xz'/);
    const k = parseKdumpConfig('FORMAT=kdump', P);
    const back = parseKdumpConfig(formatKdumpConfig(k, '/boot/vmlinuz'), 'image');
    assert.deepEqual({ ...back, source: P }, { ...k, kernel: '/boot/vmlinuz' });
  });

  it('every key, comments, export, quotes, CRLF', () => {
    const c = parseKdumpConfig(
      [
        '# kdump',
        '',
        'KERNEL=/boot/vmlinuz-6.1',
        'export INITRD="/var/lib/kexec-ts/x.img"   # trailing comment',
        "APPEND='irqpoll  nr_cpus=1 panic=5'",
        'TARGET=/dev/vdb/',
        'DUMP_LEVEL=31\r',
        'COMPRESSION=zstd',
        'ACTION=poweroff',
        'MODULES="virtio_blk /lib/modules/x/ext4.ko"',
        'TARGET=/var/crash/',
        'NODE_FROM=initrd',
        'ROOT=UUID=0a1b-2c3d',
        'NODE_ARGS="--max-old-space-size=64  --jitless"',
      ].join('\n'),
      P,
    );
    assert.equal(c.kernel, '/boot/vmlinuz-6.1');
    assert.equal(c.initrd, '/var/lib/kexec-ts/x.img');
    assert.equal(c.append, 'irqpoll nr_cpus=1 panic=5');
    assert.equal(c.target, '/var/crash', 'last one wins, trailing slash dropped');
    assert.equal(c.dumpLevel, 31);
    assert.equal(c.compression, 'zstd');
    assert.equal(c.action, 'poweroff');
    assert.deepEqual(c.modules, ['virtio_blk', '/lib/modules/x/ext4.ko']);
    assert.equal(c.nodeFrom, 'initrd');
    assert.equal(c.root, 'UUID=0a1b-2c3d');
    assert.equal(c.nodeArgs, '--max-old-space-size=64 --jitless');
    assert.equal(c.source, P);
    assert.equal(c.format, 'kdump', 'implied by DUMP_LEVEL and COMPRESSION');
  });

  it('status note: a level needing struct page classes warns only on kernels outside the verified table', () => {
    const note = (text: string, release: string | undefined) =>
      unsupportedDumpOptions(parseKdumpConfig(text, P), release);
    // 6.1 and 6.12 are the rows of VERIFIED_KERNELS (filter/rules.ts): level 31 is applied whole there,
    // as the lab's FORMAT=kdump cycle recorded (dump_level 31 in the header).
    assert.equal(note('FORMAT=kdump', '6.1.0-56-cloud-amd64'), undefined);
    assert.equal(note('FORMAT=kdump', '6.12.117+deb12-cloud-amd64'), undefined);
    assert.match(
      note('FORMAT=kdump', '5.10.0-28-amd64') ?? '',
      /^DUMP_LEVEL=31: cache and user pages are filtered only on kernels the filter has verified \(6\.1, 6\.12; docs\/kdump\.md\), not 5\.10\.0-28-amd64: a lower level is applied/,
    );
    assert.match(note('DUMP_LEVEL=2', '6.2.0') ?? '', /^DUMP_LEVEL=2: /, 'one bit of 2, 4, 8 is enough');
    assert.match(note('DUMP_LEVEL=8', undefined) ?? '', /not this unknown kernel/);
    // Zero (1) and free (16) pages need no verified layout: the filter applies them on any kernel.
    assert.equal(note('DUMP_LEVEL=17', '5.10.0'), undefined);
    assert.equal(note('DUMP_LEVEL=1', '5.10.0'), undefined);
    assert.equal(note('FORMAT=kdump\nDUMP_LEVEL=0', '5.10.0'), undefined);
    assert.equal(note('', '5.10.0'), undefined, 'FORMAT=elf filters nothing');
  });

  it('APPEND= empty means no capture options; INITRD= empty means the default', () => {
    const c = parseKdumpConfig('APPEND=\nINITRD=\n', P);
    assert.equal(c.append, '');
    assert.equal(c.initrd, DEFAULT_INITRD);
    assert.equal(parseKdumpConfig('', P).append, DEFAULT_APPEND);
  });

  it('errors name the file and line', () => {
    const cases: [string, RegExp][] = [
      ['\n\nTARGTE=/x', /kdump\.conf:3: unknown key 'TARGTE'/],
      ['ACTION=halt', /:1: ACTION must be one of reboot\|poweroff\|shell, got 'halt'/],
      ['#\nDUMP_LEVEL=32', /:2: DUMP_LEVEL must be 0\.\.31/],
      ['DUMP_LEVEL=-1', /:1: DUMP_LEVEL/],
      ['COMPRESSION=gzip', /:1: COMPRESSION must be one of none\|zlib\|lzo\|snappy\|zstd/],
      ['TARGET=var/crash', /:1: TARGET must be an absolute path/],
      ['APPEND=irqpoll nr_cpus=1', /:1: unquoted value with spaces/],
      ['APPEND="irqpoll', /:1: unterminated double quote/],
      ["APPEND='a' b", /:1: text after the closing quote: b/],
      ['KERNEL="$(uname -r)"', /:1: no variable or command expansion/],
      ['just words', /:1: expected KEY=VALUE, got: just words/],
      ['NODE_FROM=disk', /:1: NODE_FROM must be one of root\|initrd, got 'disk'/],
      ['ROOT=sda1', /:1: ROOT must be a \/dev\/ path, UUID= or LABEL=, got 'sda1'/],
    ];
    for (const [text, re] of cases) {
      const e = parseError(text);
      assert.match(e.message, re, text);
      assert.ok(e.message.startsWith(`${P}:`), e.message);
      assert.ok(e.hint);
    }
  });

  it('the copy written into the capture image parses back to the same values', () => {
    const c = parseKdumpConfig(
      'APPEND="a \\"b\\" c\\$"\nMODULES="x y"\nACTION=shell\nROOT=LABEL=root\nNODE_FROM=initrd',
      P,
    );
    assert.equal(c.append, 'a "b" c$');
    const back = parseKdumpConfig(formatKdumpConfig(c, '/boot/vmlinuz'), 'image');
    assert.deepEqual({ ...back, source: P }, { ...c, kernel: '/boot/vmlinuz' });
  });
});
