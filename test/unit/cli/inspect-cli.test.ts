// `kexec-ts inspect` end to end against FakeSys: --json, --members, --extract-vmlinux -o and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { INSPECT } from '../../../src/cli/commands/inspect.js';
import { main } from '../../../src/cli/main.js';
import { runCommand } from '../../../src/cli/run-command.js';
import { FormatError } from '../../../src/errors.js';
import { isElf } from '../../../src/formats/elf/ehdr.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';
import { buildBzImage } from '../../helpers/build-bzimage.js';
import { buildCpio } from '../../helpers/build-cpio.js';
import { buildElf } from '../../helpers/build-elf.js';
import { buildUki } from '../../helpers/build-pe.js';

const vmlinux = buildElf({ loads: 2 }).bytes;
const payload = gzipSync(vmlinux); // gzip carries the size as ISIZE, its last 4 bytes
const KERNEL = buildBzImage({ kernelVersion: '6.1.0-cli', payload, signed: true });
const INITRD = buildCpio([{ name: 'init' }, { name: 'bin', mode: 0o40755 }]);
const sys = () =>
  new FakeSys({
    files: {
      '/boot/vmlinuz': KERNEL,
      '/boot/initrd.img': gzipSync(INITRD),
      '/boot/uki.efi': buildUki({ linux: KERNEL, initrd: INITRD, cmdline: 'quiet', uname: '6.1.0-cli' }),
    },
  });

async function run(
  argv: string[],
  writes?: Map<string, Uint8Array>,
): Promise<{ status: number; out: string; err: string; error?: unknown }> {
  const io = captureIo();
  if (!writes) return { status: await main(['inspect', ...argv], { io, sys: sys() }), ...io };
  // main() has no file sink to inject, so the subcommand is called with one (as main would call it).
  const s = sys();
  const ctx = { io, getSys: async () => s, writeFile: (p: string, d: Uint8Array) => void writes.set(p, d) };
  try {
    return { status: await runCommand(INSPECT, argv, ctx), ...io };
  } catch (e) {
    return { status: -1, error: e, ...io };
  }
}

describe('kexec-ts inspect', () => {
  it('--json for several files gives an array; a UKI shows its parts', async () => {
    const r = await run(['--json', '/boot/vmlinuz', '/boot/uki.efi']);
    assert.equal(r.status, 0, r.err);
    const [k, u] = JSON.parse(r.out);
    assert.equal(k.type, 'bzImage64');
    assert.equal(u.type, 'uki');
    assert.equal(u.uki.cmdline, 'quiet');
    assert.equal(u.uki.uname, '6.1.0-cli');
  });

  it('--members lists the initramfs; without it, the summary only', async () => {
    const r = await run(['/boot/initrd.img', '--members']);
    assert.match(r.out, /initramfs: +1 segment: cpio \(2 members\), \/init present/);
    assert.match(r.out, /member: +d 0755 +0 bin/);
    assert.doesNotMatch((await run(['/boot/initrd.img'])).out, /member:/);
  });

  it('--extract-vmlinux -o OUT writes the ELF payload', async () => {
    const writes = new Map<string, Uint8Array>();
    const r = await run(['--extract-vmlinux', '/boot/vmlinuz', '-o', '/tmp/vmlinux'], writes);
    assert.equal(r.status, 0, r.err);
    const out = writes.get('/tmp/vmlinux')!;
    assert.ok(isElf(out));
    assert.deepEqual(Buffer.from(out), Buffer.from(vmlinux));
    assert.match(r.out, /vmlinux \(ELF x86_64, \d+ bytes\) from a gzip payload/);
  });

  it('refuses --extract-vmlinux without -o, -o without it, and a non-bzImage', async () => {
    assert.equal((await run(['--extract-vmlinux', '/boot/vmlinuz'])).status, 1);
    assert.equal((await run(['/boot/vmlinuz', '-o', 'x'])).status, 1);
    const r = await run(['--extract-vmlinux', '/boot/initrd.img', '-o', 'x'], new Map());
    assert.ok(r.error instanceof FormatError, String(r.error));
  });
});
