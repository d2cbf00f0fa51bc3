// Golden tests on real images fetched by scripts/fetch-fixtures.sh (sha256-pinned Debian packages)
// and a UKI built there from Debian's systemd-boot stub. Each test first asserts facts known without
// the parser (package names, the packages' /boot/config-*, boot.rst, the UKI's inputs), then compares
// the whole `inspect --json` output with test/golden/NAME.json (UPDATE_GOLDEN=1 rewrites them).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extractVmlinux } from '../../../src/formats/bzimage/extract.js';
import { decodeElfHeader, EM_X86_64 } from '../../../src/formats/elf/ehdr.js';
import { type ImageInfo, inspectImage } from '../../../src/formats/inspect.js';
import { prepareKernel } from '../../../src/formats/probe.js';
import { buildZboot } from '../../helpers/build-pe.js';

const root = new URL('../../../../', import.meta.url);
const K612 = '6.12.107+deb12-cloud-amd64'; // linux-image-6.12.107+deb12-cloud-amd64 6.12.107-1~deb12u1
const ARM = '6.12.107+deb13-cloud-arm64'; // linux-image-6.12.107+deb13-cloud-arm64-unsigned 6.12.107-1
const RV = '6.12.107+deb13-riscv64'; // linux-image-6.12.107+deb13-riscv64 6.12.107-1

function load(name: string): Uint8Array {
  const path = new URL(`test/fixtures/real/${name}`, root);
  // Fail, never skip: a missing fixture means the unit-test setup did not run.
  if (!existsSync(path))
    assert.fail(`missing ${path.pathname}: run \`bash scripts/fetch-fixtures.sh\` first`);
  return new Uint8Array(readFileSync(path));
}

/** inspect JSON against test/golden/<golden>.json. */
function golden(golden: string, info: ImageInfo): void {
  const path = new URL(`test/golden/${golden}.json`, root);
  const actual = JSON.parse(JSON.stringify(info));
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(new URL('test/golden/', root), { recursive: true });
    writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  if (!existsSync(path))
    assert.fail(`missing ${path.pathname}: run the unit tests with UPDATE_GOLDEN=1 once`);
  assert.deepEqual(actual, JSON.parse(readFileSync(path, 'utf8')));
}

describe('real images (golden)', () => {
  it(`vmlinuz-${K612}: signed bzImage64, zstd payload (CONFIG_KERNEL_ZSTD=y)`, () => {
    const info = inspectImage(load(`vmlinuz-${K612}`), `vmlinuz-${K612}`);
    assert.equal(info.type, 'bzImage64');
    assert.equal(info.protocol, '2.15');
    assert.equal(info.payloadCompression, 'zstd');
    assert.equal(info.signed, true);
    // sbverify --list names the same signer and issuer (test/unit/formats/authenticode.test.ts).
    assert.equal(info.signature?.signer, 'CN=Debian Secure Boot Signer 2022 - linux');
    assert.equal(info.signature?.issuer, 'CN=Debian Secure Boot CA');
    assert.ok(info.kernelVersion?.startsWith(`${K612} (debian-kernel@lists.debian.org) `));
    assert.ok(info.kernelVersion?.includes('Debian 6.12.107-1~deb12u1 '));
    golden(`vmlinuz-${K612}`, info);
  });

  it('the -unsigned package holds the same kernel without a certificate table', () => {
    const info = inspectImage(load(`vmlinuz-${K612}.unsigned`), `vmlinuz-${K612}.unsigned`);
    assert.equal(info.type, 'bzImage64');
    assert.equal(info.signed, false);
    assert.match(info.notes.join(), /unsigned/);
    golden(`vmlinuz-${K612}.unsigned`, info);
  });

  it('--extract-vmlinux gives an EM_X86_64 ELF of the size the payload trailer records (zstd and lz4)', () => {
    for (const [name, kind] of [
      [`vmlinuz-${K612}`, 'zstd'],
      ['vmlinuz-6.1.0-56-cloud-amd64', 'lz4'],
    ] as const) {
      const r = extractVmlinux(load(name));
      assert.equal(r.compression, kind);
      assert.equal(decodeElfHeader(r.vmlinux).e_machine, EM_X86_64);
      assert.equal(r.vmlinux.byteLength, r.declaredSize);
      assert.equal(prepareKernel(r.vmlinux).match.name, 'elf-x86_64');
    }
  });

  it(`vmlinuz-${ARM}: arm64 Image, 4K pages (CONFIG_ARM64_4K_PAGES=y), EFI stub, unsigned package`, () => {
    const info = inspectImage(load(`vmlinuz-${ARM}`), `vmlinuz-${ARM}`);
    assert.equal(info.type, 'arm64-Image');
    assert.equal(info.arch, 'arm64');
    assert.equal(info.pe, true);
    assert.equal(info.signed, false);
    assert.ok(info.kernelVersion?.startsWith(`${ARM} `));
    assert.match(info.notes[0]!, /text_offset 0x0, .* 4K pages/); // booting.rst: text_offset 0 since 3.17
    golden(`vmlinuz-${ARM}`, info);
  });

  it(`vmlinux-${RV}: riscv64 Image with header version 0.2`, () => {
    const info = inspectImage(load(`vmlinux-${RV}`), `vmlinux-${RV}`);
    assert.equal(info.type, 'riscv64-Image');
    assert.equal(info.arch, 'riscv64');
    assert.ok(info.kernelVersion?.startsWith(`${RV} `));
    assert.match(info.notes[0]!, /header version 0\.2/);
    golden(`vmlinux-${RV}`, info);
  });

  it(`uki-${K612}.efi: the stub's sections plus what fetch-fixtures.sh put in`, () => {
    const info = inspectImage(load(`uki-${K612}.efi`), `uki-${K612}.efi`);
    assert.equal(info.type, 'uki');
    assert.equal(info.arch, 'x86_64');
    assert.equal(info.uki?.uname, K612);
    assert.equal(info.uki?.prettyName, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(info.uki?.cmdline, 'console=ttyS0 kexec-ts.fixture=uki');
    assert.ok(
      info.uki?.parts.some((p) => p.name === '.sbat'),
      'systemd-stub carries .sbat',
    );
    assert.equal(info.uki?.parts.find((p) => p.name === '.linux')?.size, load(`vmlinuz-${K612}`).byteLength);
    assert.equal(info.uki?.kernel.type, 'bzImage64');
    assert.equal(info.uki?.kernel['signed'], true);
    assert.equal(info.uki?.initrd?.hasInit, true);
    assert.deepEqual(info.loadPaths, ['kexec_file_load', 'kexec_load']);
    const p = prepareKernel(load(`uki-${K612}.efi`));
    assert.deepEqual(Buffer.from(p.wrapped!.kernel.bytes), Buffer.from(load(`vmlinuz-${K612}`)));
    // The UKI's own (unsigned) digest covers its COFF header, where objcopy writes the build time: it
    // differs per build of the fixture. Its .linux is Debian's signed kernel, whose digest is fixed.
    assert.equal(info.signature?.state, 'unsigned');
    assert.match(info.signature?.imageDigest ?? '', /^[0-9a-f]{64}$/);
    delete info.signature?.imageDigest;
    golden(`uki-${K612}.efi`, info);
  });

  it('a zboot wrapping the real arm64 Image unwraps to the same bytes', () => {
    const image = load(`vmlinuz-${ARM}`);
    const info = inspectImage(buildZboot(gzipSync(image, { level: 1 }), 'gzip'), 'zboot');
    assert.equal(info.type, 'zboot');
    assert.equal(info.zboot?.kernel?.type, 'arm64-Image');
    assert.ok(info.kernelVersion?.startsWith(`${ARM} `));
  });
});
