// Every KexecError subclass in src/ has its own stable code, and no two share one; toJSON carries the
// error's data (offsets, sizes, path, errno) so that `--json` consumers need not parse messages.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileError, KexecError, SyscallError, TruncatedError } from '../../src/errors.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'bin' ? [] : modules(p); // bin/ runs the CLI when imported
    return e.name.endsWith('.js') ? [p] : [];
  });
}

describe('error codes', () => {
  it('each KexecError subclass exported from src/ declares its own code, and the codes are unique', async () => {
    const classes = new Map<string, string>(); // code -> class name
    const seen = new Set<unknown>();
    const files = modules(SRC);
    assert.ok(files.length > 100, `${files.length} modules under ${SRC}`);
    for (const file of files) {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        if (typeof value !== 'function' || seen.has(value)) continue;
        if (!(value.prototype instanceof KexecError)) continue;
        seen.add(value);
        const cls = value as unknown as typeof KexecError;
        assert.ok(Object.hasOwn(cls, 'code'), `${cls.name} (${file}) declares no code of its own`);
        assert.match(cls.code, /^E_[A-Z0-9_]+$/, cls.name);
        const twin = classes.get(cls.code);
        assert.equal(twin, undefined, `${cls.name} and ${twin} share ${cls.code}`);
        classes.set(cls.code, cls.name);
      }
    }
    // The classes the CLI's exit codes depend on (cli/report.ts) are among them.
    for (const code of [
      'E_USAGE',
      'E_FORMAT',
      'E_TRUNCATED',
      'E_LIMIT',
      'E_FILE',
      'E_SYSCALL',
      'E_FALLBACK',
    ]) {
      assert.ok(classes.has(code), code);
    }
  });
});

describe('toJSON', () => {
  it('keeps offsets and sizes of a truncated read', () => {
    const e = new TruncatedError('Elf64_Phdr', 'p_offset', 0x40, 56, 20);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), {
      name: 'TruncatedError',
      code: 'E_TRUNCATED',
      message: 'Elf64_Phdr.p_offset: need 56 bytes at offset 0x40, file has 20',
      hint: 'the file is truncated or not of this format',
      format: 'Elf64_Phdr',
      offset: 0x40,
      struct: 'Elf64_Phdr',
      field: 'p_offset',
      need: 56,
      have: 20,
    });
  });
  it('keeps path and errno of a file error, syscall and errno of a syscall error', () => {
    const f = new FileError('/boot/vmlinuz', 'ENOENT').toJSON();
    assert.equal(f['path'], '/boot/vmlinuz');
    assert.equal(f['errno'], 'ENOENT');
    const s = new SyscallError('kexec_file_load', '3, 4, 12, "x", 0x0', 'ENOEXEC', 8).toJSON();
    assert.deepEqual(
      [s['syscall'], s['args'], s['errno'], s['errnoValue'], s['code']],
      ['kexec_file_load', '3, 4, 12, "x", 0x0', 'ENOEXEC', 8, 'E_SYSCALL'],
    );
  });
});
