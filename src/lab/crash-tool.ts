// The `crash` utility and the guest kernel's debug vmlinux, for checking that crash opens our dumps
// (test/lab/kdump.test.ts). Both are unpacked into the lab cache, never installed: crash from its deb
// (plus any lib* dependency the host lacks, libsnappy1v5 on a plain Debian 12), and only
// usr/lib/debug/boot/vmlinux-* out of the kernel's -dbg package (283 MB deb, 590 MB vmlinux for
// 6.1.0-56-cloud-amd64), whose deb is deleted once the vmlinux is out. Fetched on demand, not by
// `lab setup`: a user who only tries kexec does not need them.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { run } from './exec.js';
import { labPaths } from './paths.js';
import { APT_ENV, fetchDeb, fetchMissingLibs, type LabSetup, withAptUpdate } from './setup.js';

export interface CrashTool {
  /** The unpacked crash binary. */
  crash: string;
  /** LD_LIBRARY_PATH entries for the libraries the host lacks. */
  libDirs: string[];
  /** The guest kernel's vmlinux with DWARF, from its -dbg package. */
  vmlinux: string;
}

export async function fetchCrashTool(
  setup: LabSetup,
  log: (s: string) => void = () => {},
): Promise<CrashTool> {
  const paths = labPaths(setup.root);
  const crashRoot = await fetchDeb('crash', paths, log);
  const crash = join(crashRoot, 'usr/bin/crash');
  if (!existsSync(crash))
    throw new LabError(`no usr/bin/crash in ${crashRoot}`, { hint: 'remove the lab cache' });
  const libDirs = await fetchMissingLibs('crash', paths, log);
  return { crash, libDirs, vmlinux: await fetchDebugVmlinux(setup, log) };
}

/** usr/lib/debug/boot/vmlinux-<release> of `<kernelPackage>-dbg`, cached under extract/<package>-dbg/. */
async function fetchDebugVmlinux(setup: LabSetup, log: (s: string) => void): Promise<string> {
  const paths = labPaths(setup.root);
  const pkg = `${setup.kernelPackage}-dbg`;
  const member = `usr/lib/debug/boot/vmlinux-${setup.kernelRelease}`;
  const dest = join(paths.extract, pkg);
  const vmlinux = join(dest, member);
  if (existsSync(vmlinux)) return vmlinux;
  await mkdir(paths.debs, { recursive: true });
  log(`apt-get download ${pkg}`);
  await withAptUpdate(() =>
    run(['apt-get', 'download', pkg], {
      cwd: paths.debs,
      env: APT_ENV,
      hint: `the Debian archive must be reachable and carry ${pkg}`,
    }),
  );
  const deb = (await readdir(paths.debs)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new LabError(`apt-get download ${pkg} left no ${pkg}_*.deb`);
  const tmp = `${dest}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  log(`extracting ${member} from ${deb}`);
  // Only the one member: the whole package unpacks to 1.7 GB of modules' debug info.
  await run([
    'sh',
    '-c',
    'dpkg-deb --fsys-tarfile "$0" | tar -x -C "$1" "./$2"',
    join(paths.debs, deb),
    tmp,
    member,
  ]);
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
  await rm(join(paths.debs, deb), { force: true });
  if (!existsSync(vmlinux)) throw new LabError(`${deb} holds no ${member}`);
  return vmlinux;
}

/**
 * Runs crash on `dump` (the parts of a split dump: several files) with `commands` on stdin (one per
 * line) and returns what it printed.
 */
export async function runCrash(
  tool: CrashTool,
  dump: string | readonly string[],
  commands: readonly string[],
): Promise<string> {
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: [...tool.libDirs, process.env['LD_LIBRARY_PATH'] ?? ''].filter(Boolean).join(':'),
  };
  const r = await run([tool.crash, '-s', tool.vmlinux, ...(typeof dump === 'string' ? [dump] : dump)], {
    env,
    input: `${[...commands, 'quit'].join('\n')}\n`,
    hint: 'crash must match the dump: the vmlinux comes from the guest kernel version',
  });
  return r.stdout + r.stderr;
}
