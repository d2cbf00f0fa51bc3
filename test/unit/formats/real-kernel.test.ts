// Golden test on a real signed Debian kernel (fetched by scripts/fetch-fixtures.sh, sha256-pinned).
// Expected values come from the kernel's documentation and the package's own config, not from
// what the parser printed: boot.rst for the protocol and magics, header.S/bootparam.h for how the
// config sets xloadflags, and /boot/config-6.1.0-56-cloud-amd64 for the numbers.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseBzImage } from '../../../src/formats/bzimage/parse.js';
import { probeBzImage64 } from '../../../src/formats/bzimage/probe.js';
import {
  LOADED_HIGH,
  XLF_5LEVEL,
  XLF_5LEVEL_ENABLED,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_EFI_HANDOVER_32,
  XLF_EFI_HANDOVER_64,
  XLF_EFI_KEXEC,
  XLF_KERNEL_64,
} from '../../../src/formats/bzimage/setup-header.js';
import { inspectImage } from '../../../src/formats/inspect.js';
import { prepareKernel } from '../../../src/formats/probe.js';

const KREL = '6.1.0-56-cloud-amd64'; // package linux-image-6.1.0-56-cloud-amd64
const DEBIAN_VERSION = '6.1.192-2';
const path = new URL(`../../../../test/fixtures/real/vmlinuz-${KREL}`, import.meta.url);

function load(): Uint8Array {
  // Fail, never skip: a missing fixture means the unit-test setup did not run.
  if (!existsSync(path))
    assert.fail(`missing ${path.pathname}: run \`bash scripts/fetch-fixtures.sh\` first`);
  return new Uint8Array(readFileSync(path));
}

describe(`real kernel vmlinuz-${KREL}`, () => {
  it('has the setup header boot.rst and the config predict', () => {
    const bz = parseBzImage(load());
    const h = bz.header;
    assert.equal(h.boot_flag, 0xaa55); // boot_flag: "Contains 0xAA55"
    assert.equal(h.header, 'HdrS');
    assert.equal(bz.protocol, 0x020f); // Linux 5.5+ speaks protocol 2.15
    assert.equal(h.start_sys_seg, 0x1000); // "The load low segment (0x1000)"
    assert.equal(h.code32_start, 0x100000); // defaults to the load address of a bzImage
    assert.ok((h.loadflags! & LOADED_HIGH) !== 0);
    // header.S: KERNEL_64 and ABOVE_4G on x86_64 with RELOCATABLE; both EFI handovers with
    // EFI_HANDOVER_PROTOCOL + EFI_MIXED; EFI_KEXEC with EFI; both 5LEVEL bits with X86_5LEVEL.
    assert.equal(
      h.xloadflags,
      XLF_KERNEL_64 |
        XLF_CAN_BE_LOADED_ABOVE_4G |
        XLF_EFI_HANDOVER_32 |
        XLF_EFI_HANDOVER_64 |
        XLF_EFI_KEXEC |
        XLF_5LEVEL |
        XLF_5LEVEL_ENABLED,
    );
    assert.equal(h.relocatable_kernel, 1); // CONFIG_RELOCATABLE=y
    assert.equal(h.kernel_alignment, 0x200000); // CONFIG_PHYSICAL_ALIGN=0x200000
    assert.equal(h.pref_address, 0x1000000n); // LOAD_PHYSICAL_ADDR = CONFIG_PHYSICAL_START=0x1000000
    assert.equal(h.min_alignment, 21); // MIN_KERNEL_ALIGN_LG2 = PMD_SHIFT (2 MiB) on x86_64
    assert.equal(h.cmdline_size, 2047); // COMMAND_LINE_SIZE (2048) - 1
    assert.equal(h.initrd_addr_max, 0x7fffffff);
    assert.equal(bz.payloadCompression, 'lz4'); // CONFIG_KERNEL_LZ4=y
    assert.ok(bz.kernelVersion?.startsWith(`${KREL} (debian-kernel@lists.debian.org) `), bz.kernelVersion);
    assert.ok(bz.kernelVersion?.includes(`Debian ${DEBIAN_VERSION} `), bz.kernelVersion);
    assert.deepEqual(bz.warnings, []);
  });

  it('is an x86_64 PE with an Authenticode signature (the signed package)', () => {
    const pe = parseBzImage(load()).pe;
    assert.equal(pe?.arch, 'x86_64');
    assert.equal(pe?.optMagic, 0x20b);
    assert.equal(pe?.signed, true);
    assert.ok(pe.certSize > 0 && pe.certOffset + pe.certSize <= load().byteLength);
  });

  it('probes as bzImage64 and inspects as loadable by both syscalls', () => {
    const bytes = load();
    assert.equal(probeBzImage64(bytes).ok, true);
    const p = prepareKernel(bytes);
    assert.equal(p.match.name, 'bzImage64');
    assert.equal(p.compression, undefined);
    assert.equal(p.bytes, bytes);
    const info = inspectImage(bytes, `vmlinuz-${KREL}`);
    assert.equal(info.type, 'bzImage64');
    assert.equal(info.protocol, '2.15');
    assert.equal(info.signed, true);
    assert.equal(info.prefAddress, '0x1000000');
    assert.deepEqual(info.loadPaths, ['kexec_file_load', 'kexec_load']);
  });
});
