// `kdump build-initrd --compress zstd` with each zstd engine: node:zlib's stream where this Node has it,
// and libzstd's ZSTD_compressStream2 always (Node 18 and 20 have only that one). The image must be one
// zstd segment that our reader and the zstd CLI both unpack to the same cpio.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decompress } from '../../../src/formats/compress/decompress.js';
import { detectZstdAs, nodeZstdCodec, zstdCodec } from '../../../src/formats/compress/zstd.js';
import { listInitramfs } from '../../../src/formats/cpio/initramfs.js';
import { parseKdumpConfig } from '../../../src/kdump/service/config.js';
import { BUSYBOX_PATHS, buildCaptureInitrd } from '../../../src/kdump/service/initrd.js';

const busybox = BUSYBOX_PATHS.find((p) => existsSync(p));

describe('kdump build-initrd --compress zstd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-initrd-zstd-'));
  after(() => {
    detectZstdAs();
    rmSync(dir, { recursive: true, force: true });
  });

  const engines = [
    ...(nodeZstdCodec() ? [{ name: 'node:zlib', node: true }] : []),
    { name: 'libzstd', node: false },
  ];
  for (const { name, node } of engines) {
    it(`${name}: one zstd segment holding /init and busybox, as the zstd CLI unpacks it`, async () => {
      assert.ok(busybox, `no busybox at ${BUSYBOX_PATHS.join(', ')} (apt-get install busybox-static)`);
      detectZstdAs({ node });
      assert.match(zstdCodec().engine, node ? /^node:zlib$/ : /^libzstd 1\./);
      const out = join(dir, `kdump-${name}.img`);
      const r = await buildCaptureInitrd({
        output: out,
        config: parseKdumpConfig('TARGET=/dev/vdb\nROOT=LABEL=sysroot\n', '/etc/kexec-ts/kdump.conf'),
        kernel: '/boot/vmlinuz-test',
        release: 'test',
        compression: 'zstd',
        busybox,
        node: '/bin/sh',
      });
      assert.equal(r.compression, 'zstd');
      const bytes = new Uint8Array(readFileSync(out));
      const info = listInitramfs(bytes);
      assert.equal(info.segments.length, 1);
      assert.equal(info.segments[0]!.compression, 'zstd');
      assert.ok(info.hasInit);
      assert.ok(info.members.some((m) => m.name === 'bin/busybox'));
      // The reference decoder agrees byte for byte (zstd is in Debian's Priority: important set).
      const cli = spawnSync('zstd', ['-d', '-c', out], { maxBuffer: 256 << 20 });
      assert.equal(cli.status, 0, String(cli.stderr));
      assert.ok(Buffer.from(decompress(bytes)).equals(cli.stdout));
    });
  }
});
