// The shared libraries (and the dynamic loader) a host binary needs: what `ldd` lists, else what its
// own PT_INTERP loader lists with --list (a busybox system has no ldd). Both run through Sys.
import { StateError } from '../errors.js';
import { elfInterpreter } from '../formats/elf/phdr.js';
import { realSys } from '../sys/index.js';
import type { Sys } from '../sys/types.js';

/** Enough of an executable for its ELF and program headers. */
const ELF_HEAD = 64 << 10;

export interface SharedLibrariesOptions {
  sys?: Sys;
  /** Searched before the system's directories (LD_LIBRARY_PATH): libraries unpacked from a .deb. */
  libraryDirs?: readonly string[];
}

/** Host paths of the libraries `binary` loads, as the loader resolves them; [] for a static binary. */
export function sharedLibraries(binary: string, opts: SharedLibrariesOptions = {}): string[] {
  const sys = opts.sys ?? realSys();
  const env = opts.libraryDirs?.length ? { env: { LD_LIBRARY_PATH: opts.libraryDirs.join(':') } } : {};
  let r = sys.execSync(['ldd', binary], env);
  if (r.status !== 0) {
    // ldd exits 1 for a static binary ("not a dynamic executable"), 127 where it is missing.
    const interp = elfInterpreter(sys.readRange(binary, 0, ELF_HEAD));
    if (!interp) return [];
    r = sys.execSync([interp, '--list', binary], env);
    if (r.status !== 0)
      throw new StateError(`${interp} --list ${binary} exited ${r.status}: ${r.stderr.trim()}`, {
        hint: 'is ldd installed?',
      });
  }
  return parseLdd(binary, r.stdout);
}

/** `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and `/lib64/ld-linux-x86-64.so.2 (0x...)`. */
function parseLdd(binary: string, out: string): string[] {
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    if (line.includes('not found'))
      throw new StateError(`${binary}: ${line.trim()}`, { hint: 'install the package holding it' });
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}
