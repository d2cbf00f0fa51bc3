// The library entry point for tests and the demo: set up (cached), build (cached), boot, wait for READY.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type BootEvent, DEFAULT_READY_TIMEOUT_MS, GuestConsole, type TranscriptLine } from './console.js';
import { type Compression, type LabBuild, labBuild } from './initramfs.js';
import { type QemuOptions, qemuArgv, spawnQemu } from './qemu.js';
import { type LabSetup, labSetup } from './setup.js';

export interface PrepareOptions {
  kernelPackage?: string;
  compression?: Compression;
  /** Cache root; default labDir(). */
  root?: string;
  log?: (line: string) => void;
}

export interface StartGuestOptions extends PrepareOptions, Omit<Partial<QemuOptions>, 'kernel' | 'initrd'> {
  /** Boot this kernel instead of the build's (e.g. the lab kernel re-signed for Secure Boot). */
  kernel?: string;
  /** Called for every console line (e.g. to stream the console to stderr). */
  onLine?: (line: TranscriptLine) => void;
  readyTimeoutMs?: number;
  /**
   * cpio archives (e.g. from writeCpio) appended to the guest initrd for this boot only; the guest
   * sees their files in its rootfs. The combined file lives in a temporary directory removed on close.
   */
  extraInitrd?: string[];
}

export interface Guest {
  console: GuestConsole;
  setup: LabSetup;
  build: LabBuild;
  /** The QEMU command line used. */
  argv: string[];
  /** Events of the first boot (READY already seen). */
  firstBoot: BootEvent;
  close(): Promise<void>;
}

/** `lab setup` + `lab build`, both idempotent and cached. */
export async function prepareLab(opts: PrepareOptions = {}): Promise<{ setup: LabSetup; build: LabBuild }> {
  const setup = await labSetup({
    ...(opts.kernelPackage === undefined ? {} : { kernelPackage: opts.kernelPackage }),
    ...(opts.root === undefined ? {} : { root: opts.root }),
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  const build = await labBuild({
    setup,
    ...(opts.compression === undefined ? {} : { compression: opts.compression }),
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  return { setup, build };
}

/** Boots a lab guest and waits for its READY line. Close it with `guest.close()`. */
export async function startGuest(opts: StartGuestOptions = {}): Promise<Guest> {
  const { setup, build } = await prepareLab(opts);
  let tmp: string | undefined;
  let initrd = build.initrd;
  if (opts.extraInitrd?.length) {
    tmp = await mkdtemp(join(tmpdir(), 'kexec-ts-initrd-'));
    initrd = join(tmp, 'initrd.img');
    await pipeline(async function* () {
      for (const f of [build.initrd, ...(opts.extraInitrd ?? [])]) yield* createReadStream(f);
    }, createWriteStream(initrd));
  }
  const cleanup = async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
  const qemu: QemuOptions = { ...opts, kernel: opts.kernel ?? build.kernel, initrd };
  const child = spawnQemu(qemu);
  const console = new GuestConsole(child, opts.onLine);
  const close = async () => {
    await console.close();
    await cleanup();
  };
  try {
    const firstBoot = await console.waitReady(opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    return { console, setup, build, argv: qemuArgv(qemu), firstBoot, close };
  } catch (e) {
    await close();
    throw e;
  }
}
