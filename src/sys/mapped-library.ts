// Where a library that koffi dlopened lives: what a capture initrd or a lab image copies so that the
// same dlopen there finds the same file (liblzo2 for `vmcore save -l`, libzstd for zstd on old Node).
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The file the dynamic loader mapped for `library` (a soname or path already loaded into this process),
 * from /proc/self/maps: e.g. /usr/lib/x86_64-linux-gnu/liblzo2.so.2.0.0 for liblzo2.so.2.
 */
export function mappedLibrary(library: string): string | undefined {
  const want = basename(library).replace(/\.so.*$/, '.so');
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const path = line.split(/\s+/)[5];
    if (path?.startsWith('/') && basename(path).startsWith(want)) return path;
  }
  return undefined;
}

/**
 * A loaded library for an image: the file this machine loads (`host`) and where the image holds it
 * (`image`): under its soname in the same directory, a search path of the loader, so that dlopen of the
 * soname there loads it as here.
 */
export function libraryForImage(
  host: string | undefined,
  soname: string,
): { host: string; image: string } | undefined {
  return host === undefined ? undefined : { host, image: join(dirname(host), soname) };
}
