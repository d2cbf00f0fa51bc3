// The hand-written files of the Debian package (packaging/deb/) against the code they describe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { manPages } from '../../../scripts/build-deb.js';
import { defaultConfig, KEYS, parseKdumpConfig } from '../../../src/kdump/service/config.js';

const DEB = fileURLToPath(new URL('../../../../packaging/deb/', import.meta.url));
const read = (name: string) => readFileSync(join(DEB, name), 'utf8');

describe('packaging/deb', () => {
  it('kdump.conf (the conffile) shows every key, commented out, each with the default it has', () => {
    const text = read('kdump.conf');
    const shown = [...text.matchAll(/^#([A-Z_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual([...shown].sort(), [...KEYS].sort());
    // As shipped, every line is a comment: the defaults.
    assert.deepEqual(
      parseKdumpConfig(text, '/etc/kexec-ts/kdump.conf'),
      defaultConfig('/etc/kexec-ts/kdump.conf'),
    );
    // Uncommented, each value given equals the default it documents.
    const uncommented = text.replace(/^#([A-Z_]+=)/gm, '$1');
    assert.deepEqual(parseKdumpConfig(uncommented, 'x'), defaultConfig('x'));
  });

  it('the changelog names the version package.json has (the builder refuses otherwise)', () => {
    const pkg = JSON.parse(readFileSync(join(DEB, '../../package.json'), 'utf8'));
    assert.equal(
      /^kexec-ts \(([^)]+)\) unstable; urgency=medium$/m.exec(read('changelog'))?.[1],
      pkg.version,
    );
  });

  it('maintainer scripts load no kernel, enable or start nothing, and never reboot', () => {
    for (const s of ['postinst', 'prerm', 'postrm']) {
      const text = read(s).replace(/^#.*$/gm, '');
      assert.match(read(s), /^#!\/bin\/sh\n/, s);
      assert.match(text, /^set -e$/m, s);
      assert.doesNotMatch(
        text,
        /(^|[\s;|&(])(kexec-ts|kexec|reboot|kexec-ts-kdump)\s|systemctl (enable|start|restart)|deb-systemd-invoke (start|restart)|enable/m,
        s,
      );
    }
    // The one stop: prerm on removal only, which unloads a capture kernel whose kexec-ts goes away.
    assert.match(
      read('prerm'),
      /if \[ "\$1" = remove \] .*\n\tdeb-systemd-invoke stop kexec-ts-kdump\.service/,
    );
  });

  it("man pages go where man(1) looks, by the section of package.json's man field", () => {
    assert.deepEqual(manPages(undefined), []);
    assert.deepEqual(manPages(['dist/man/kexec-ts.8', 'dist/man/kexec-ts-vmcore.8']), [
      { src: 'dist/man/kexec-ts.8', dest: '/usr/share/man/man8/kexec-ts.8.gz' },
      { src: 'dist/man/kexec-ts-vmcore.8', dest: '/usr/share/man/man8/kexec-ts-vmcore.8.gz' },
    ]);
    assert.deepEqual(manPages('man/kexec-ts.conf.5'), [
      { src: 'man/kexec-ts.conf.5', dest: '/usr/share/man/man5/kexec-ts.conf.5.gz' },
    ]);
    assert.throws(() => manPages(['man/kexec-ts.md']), /section number/);
  });
});
