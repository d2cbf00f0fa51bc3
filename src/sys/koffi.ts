// The koffi FFI module, loaded on first use by the bindings in src/sys (libc, liblzo2, libzstd): one
// place decides where it comes from. Only src/sys may touch koffi.
//
// koffi publishes its native code as one package per platform (@koromix/koffi-linux-x64, ...), each of
// which loads its prebuilt binary (glibc or musl) and exports the whole API; the `koffi` package only
// finds that package and adds deprecated aliases. Its install script merely checks that the prebuilt
// binary loads (else it builds from source with CMake), and npm 11 warns about it on every install.
// So kexec-ts depends on the Linux platform packages directly (package.json optionalDependencies: npm
// installs the one for this machine) and installs with no script; `koffi` is a dev dependency for its
// types, and is used when the platform package is absent (docs/packaging.md).
import { createRequire } from 'node:module';
import { StateError } from '../errors.js';

export type Koffi = typeof import('koffi');

let cached: Koffi | undefined;

/** koffi's module; StateError when neither the platform package nor `koffi` loads. */
export function loadKoffi(): Koffi {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const platform = `@koromix/koffi-${process.platform}-${process.arch}`;
  let first: unknown;
  for (const name of [platform, 'koffi']) {
    try {
      const m = require(name) as Koffi;
      if (typeof m.load === 'function') {
        cached = m;
        return m;
      }
    } catch (e) {
      first ??= e;
    }
  }
  throw new StateError(`koffi does not load: ${(first as Error).message.split('\n')[0]}`, {
    cause: first,
    hint: `reinstall kexec-ts so that npm installs its optional dependency ${platform} (koffi's prebuilt binary for this platform)`,
  });
}

/**
 * dlopen of `library` (a soname or path) through koffi; StateError naming the call, with `hint`, when it
 * fails. `deep`: RTLD_DEEPBIND (the library's own symbols before the process's).
 */
export function openLibrary(
  library: string,
  hint: string,
  options: { deep?: boolean } = {},
): { koffi: Koffi; lib: ReturnType<Koffi['load']> } {
  const koffi = loadKoffi();
  try {
    // koffi.load refuses an explicit undefined for its options.
    return { koffi, lib: options.deep ? koffi.load(library, { deep: true }) : koffi.load(library) };
  } catch (e) {
    throw new StateError(`dlopen(${JSON.stringify(library)}) failed: ${(e as Error).message}`, {
      cause: e,
      hint,
    });
  }
}
