// /etc/kexec-ts/kdump.conf: the kdump service's one configuration file. KEY=VALUE lines as in Debian's
// /etc/default/kdump-tools (a shell fragment there; here parsed, never run): `#` comments, blank lines,
// an optional `export `, values optionally in single or double quotes. Unknown keys and bad values are
// errors that name the line, so a typo cannot silently leave a machine unprotected.
import { UsageError } from '../../errors.js';
import { PAGE_COMPRESSIONS, type PageCompression } from '../compressed/codec.js';
import { DL_CACHE, DL_CACHE_PRIVATE, DL_USER, majorMinor, VERIFIED_KERNELS } from '../filter/rules.js';

import { CONFIG_PATH, DEFAULT_INITRD } from './paths.js';

export { CONFIG_PATH, DEFAULT_INITRD };
/**
 * Added to the capture kernel's command line. irqpoll, nr_cpus=1 and reset_devices are what every distro
 * passes (kdump-tools' kdump-config and kdump-utils' kdumpctl); usbcore.nousb is kdump-tools' addition
 * (USB host controllers left running by the crashed kernel are a common cause of hangs in the capture
 * kernel). cgroup_disable=memory, transparent_hugepage=never, novmcoredd and panic=10 are from RHEL's
 * KDUMP_COMMANDLINE_APPEND (/etc/sysconfig/kdump): no memory-cgroup accounting, no huge pages and no
 * device-dump buffers in a small reservation, and a capture kernel that panics (out of memory) reboots
 * after 10 s instead of hanging. kdump-tools also adds systemd.unit=kdump-tools-dump.service, which only
 * matters for its systemd-based initramfs; ours runs `kexec-ts kdump save` from /init. rootfstype=ramfs
 * is ours, for NODE_FROM=initrd: without root= the kernel unpacks the initramfs into a tmpfs capped at half
 * of RAM, and Node alone is ~120 MiB ("Initramfs unpacking failed: write error", measured at 256M).
 */
export const DEFAULT_APPEND =
  'irqpoll nr_cpus=1 reset_devices usbcore.nousb cgroup_disable=memory transparent_hugepage=never novmcoredd panic=10 rootfstype=ramfs';
export const DEFAULT_TARGET = '/var/crash';
/**
 * Node's flags in the capture kernel. Measured on the 1.3 GB lab vmcore (`kdump save`, Node 24): peak
 * anonymous RSS 108 MB with none, 41 MB with --max-old-space-size=32 (V8 collects the 4 MiB chunk
 * buffers early instead of growing the heap); --max-semi-space-size=1 keeps the young generation small;
 * --v8-pool-size=0 and --single-threaded start no V8 worker threads (each has a stack). --jitless saved
 * nothing measurable and would turn off WebAssembly.
 */
export const DEFAULT_NODE_ARGS =
  '--max-old-space-size=32 --max-semi-space-size=1 --v8-pool-size=0 --single-threaded';
/**
 * Where the capture kernel runs Node and kexec-ts from. `root`: the crashed system's root file system
 * (ROOT), mounted by the capture /init, so Node's 120 MB are page cache the kernel can evict, not RAM
 * pinned in the initramfs (what Debian's kdump-tools does too: its capture initramfs mounts the real root).
 * `initrd`: both inside the capture initramfs (needs no disk, but a larger reservation).
 */
export const NODE_FROM = ['root', 'initrd'] as const;
export type NodeFrom = (typeof NODE_FROM)[number];

export const ACTIONS = ['reboot', 'poweroff', 'shell'] as const;
export type Action = (typeof ACTIONS)[number];
/** makedumpfile's per-page compressions (kdump-compressed output only). */
export const COMPRESSIONS = PAGE_COMPRESSIONS;
export type CompressionName = PageCompression;
/** `elf`: a full copy of /proc/vmcore; `kdump`: makedumpfile's kdump-compressed format. */
export const FORMATS = ['elf', 'kdump'] as const;
export type DumpFormat = (typeof FORMATS)[number];
/**
 * What FORMAT=kdump uses when COMPRESSION or DUMP_LEVEL is not given. LZO: the fastest of the four per
 * core (measured per page on one core of the lab host: 247 MiB/s against zlib's 32-36), about the same size as snappy, and
 * the only fast one Debian 12's makedumpfile 1.7.2 and crash both read. Level 31, as Debian's
 * kdump-tools (MAKEDUMP_ARGS="-c -d 31"): zero, cache, user and free pages out; kernels the filter has
 * not verified fall back to a lower level, which the dump's header records.
 */
export const KDUMP_DEFAULT_COMPRESSION: CompressionName = 'lzo';
export const KDUMP_DEFAULT_LEVEL = 31;

export interface KdumpConfig {
  /** Capture kernel; undefined = /boot/vmlinuz-$(uname -r) of the running kernel. */
  kernel: string | undefined;
  initrd: string;
  append: string;
  /** A directory, or a block device (/dev/...) that the capture /init mounts. */
  target: string;
  /** How the dump is written; elf unless the file sets FORMAT, COMPRESSION or DUMP_LEVEL. */
  format: DumpFormat;
  /** makedumpfile -d bit mask, 0..31 (kdump format only). */
  dumpLevel: number;
  /** Per-page compression (kdump format only; `none` for elf). */
  compression: CompressionName;
  action: Action;
  /** Kernel modules the capture /init loads, in order (names or paths), e.g. the target's disk driver. */
  modules: string[];
  nodeFrom: NodeFrom;
  /** With nodeFrom 'root': the device holding Node and kexec-ts (/dev/..., UUID=, LABEL=: /init resolves them with busybox findfs); '' = the running root. */
  root: string;
  /** Node's command-line flags in the capture kernel. */
  nodeArgs: string;
  /** REQUIRE_SIGNED=yes: `kdump load` refuses a capture kernel not validly signed by a trusted key. */
  requireSigned: boolean;
  /** TRUST_CERTS: certificates (PEM/DER paths) trusted for REQUIRE_SIGNED besides the db, MOK and kernel keys. */
  trustCerts: string[];
  /** Where the values came from: the file, or 'defaults' when it does not exist. */
  source: string;
}

export const KEYS = [
  'KERNEL',
  'INITRD',
  'APPEND',
  'TARGET',
  'FORMAT',
  'DUMP_LEVEL',
  'COMPRESSION',
  'ACTION',
  'MODULES',
  'NODE_FROM',
  'ROOT',
  'NODE_ARGS',
  'REQUIRE_SIGNED',
  'TRUST_CERTS',
] as const;
type Key = (typeof KEYS)[number];

export function defaultConfig(source = 'defaults'): KdumpConfig {
  return {
    kernel: undefined,
    initrd: DEFAULT_INITRD,
    append: DEFAULT_APPEND,
    target: DEFAULT_TARGET,
    format: 'elf',
    dumpLevel: 0,
    compression: 'none',
    action: 'reboot',
    modules: [],
    nodeFrom: 'root',
    root: '',
    nodeArgs: DEFAULT_NODE_ARGS,
    requireSigned: false,
    trustCerts: [],
    source,
  };
}

function fail(path: string, line: number, what: string, hint?: string): never {
  throw new UsageError(`${path}:${line}: ${what}`, {
    hint: hint ?? `see docs/kdump-service.md; keys: ${KEYS.join(', ')}`,
  });
}

/** A value that must be one of `allowed`; the message names the key and every choice. */
function oneOf<T extends string>(
  allowed: readonly T[],
  key: string,
  value: string,
  path: string,
  n: number,
): T {
  if (!(allowed as readonly string[]).includes(value))
    fail(path, n, `${key} must be one of ${allowed.join('|')}, got '${value}'`);
  return value as T;
}

/** One value: quotes stripped (no escapes inside single quotes; \" \\ \$ inside double quotes). */
function unquote(raw: string, path: string, line: number): string {
  const v = raw.trim();
  if (v.startsWith("'")) {
    const end = v.indexOf("'", 1);
    if (end < 0) fail(path, line, 'unterminated single quote');
    if (
      v.slice(end + 1).trim() &&
      !v
        .slice(end + 1)
        .trim()
        .startsWith('#')
    )
      fail(path, line, `text after the closing quote: ${v.slice(end + 1).trim()}`);
    return v.slice(1, end);
  }
  if (v.startsWith('"')) {
    let out = '';
    for (let i = 1; i < v.length; i++) {
      const ch = v[i]!;
      if (ch === '\\' && i + 1 < v.length && '"\\$`'.includes(v[i + 1]!)) out += v[++i];
      else if (ch === '"') {
        const rest = v.slice(i + 1).trim();
        if (rest && !rest.startsWith('#')) fail(path, line, `text after the closing quote: ${rest}`);
        return out;
      } else if (ch === '$' || ch === '`') fail(path, line, 'no variable or command expansion', noExpand);
      else out += ch;
    }
    fail(path, line, 'unterminated double quote');
  }
  const bare = v.replace(/\s+#.*$/, '');
  if (/[\s'"$`;|&<>()]/.test(bare))
    fail(path, line, `unquoted value with spaces or shell characters: ${bare}`, 'quote the value: KEY="a b"');
  return bare;
}
const noExpand = 'the file is read, not run by a shell: write values literally';

export function parseKdumpConfig(text: string, path = CONFIG_PATH): KdumpConfig {
  const cfg = defaultConfig(path);
  const lines = text.split('\n');
  const given = new Map<Key, number>();
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) fail(path, n, `expected KEY=VALUE, got: ${line}`);
    const key = m[1]!;
    if (!(KEYS as readonly string[]).includes(key)) fail(path, n, `unknown key '${key}'`);
    setKey(cfg, key as Key, unquote(m[2]!, path, n), path, n);
    given.set(key as Key, n);
  }
  resolveFormat(cfg, given, path);
  return cfg;
}

/**
 * FORMAT when not given: kdump if COMPRESSION or DUMP_LEVEL is set, else elf (a full copy). FORMAT=kdump
 * fills what is not given with the kdump defaults; FORMAT=elf refuses both (the ELF copy can neither
 * compress nor filter pages).
 */
function resolveFormat(cfg: KdumpConfig, given: Map<Key, number>, path: string): void {
  const level = given.get('DUMP_LEVEL');
  const compression = given.get('COMPRESSION');
  const format = given.get('FORMAT');
  if (format === undefined) cfg.format = level !== undefined || compression !== undefined ? 'kdump' : 'elf';
  if (cfg.format === 'elf') {
    const bad =
      level !== undefined && cfg.dumpLevel !== 0
        ? level
        : compression !== undefined && cfg.compression !== 'none'
          ? compression
          : undefined;
    if (bad !== undefined) {
      fail(
        path,
        bad,
        'FORMAT=elf copies every page uncompressed',
        'set FORMAT=kdump to filter or compress pages',
      );
    }
    return;
  }
  if (compression === undefined) cfg.compression = KDUMP_DEFAULT_COMPRESSION;
  if (level === undefined) cfg.dumpLevel = KDUMP_DEFAULT_LEVEL;
}

function setKey(cfg: KdumpConfig, key: Key, value: string, path: string, n: number): void {
  switch (key) {
    case 'KERNEL':
      cfg.kernel = value === '' ? undefined : absolute(value, key, path, n);
      return;
    case 'INITRD':
      cfg.initrd = value === '' ? DEFAULT_INITRD : absolute(value, key, path, n);
      return;
    case 'APPEND':
      cfg.append = value.trim().replace(/\s+/g, ' ');
      return;
    case 'TARGET':
      cfg.target = absolute(value === '' ? DEFAULT_TARGET : value.replace(/(.)\/+$/, '$1'), key, path, n);
      return;
    case 'FORMAT':
      cfg.format = oneOf<DumpFormat>(FORMATS, key, value, path, n);
      return;
    case 'DUMP_LEVEL': {
      if (!/^\d+$/.test(value) || Number(value) > 31)
        fail(path, n, `DUMP_LEVEL must be 0..31 (a makedumpfile -d mask), got '${value}'`);
      cfg.dumpLevel = Number(value);
      return;
    }
    case 'COMPRESSION':
      cfg.compression = oneOf<CompressionName>(COMPRESSIONS, key, value, path, n);
      return;
    case 'ACTION':
      cfg.action = oneOf<Action>(ACTIONS, key, value, path, n);
      return;
    case 'MODULES':
      cfg.modules = value.split(/\s+/).filter(Boolean);
      return;
    case 'NODE_FROM':
      cfg.nodeFrom = oneOf<NodeFrom>(NODE_FROM, key, value, path, n);
      return;
    case 'ROOT':
      if (value !== '' && !/^(\/dev\/|UUID=|LABEL=)/.test(value))
        fail(path, n, `ROOT must be a /dev/ path, UUID= or LABEL=, got '${value}'`);
      cfg.root = value;
      return;
    case 'NODE_ARGS':
      cfg.nodeArgs = value.trim().replace(/\s+/g, ' ');
      return;
    case 'REQUIRE_SIGNED':
      cfg.requireSigned = oneOf(['yes', 'no'] as const, key, value, path, n) === 'yes';
      return;
    case 'TRUST_CERTS':
      cfg.trustCerts = value
        .split(/\s+/)
        .filter(Boolean)
        .map((c) => absolute(c, key, path, n));
      return;
  }
}

function absolute(value: string, key: string, path: string, n: number): string {
  if (!value.startsWith('/')) fail(path, n, `${key} must be an absolute path, got '${value}'`);
  return value;
}

/**
 * A note for `kdump status` when the dump level will not be applied as asked, or undefined. Cache and
 * user pages (bits 2, 4, 8) are excluded only on kernels whose struct page layout is in the verified
 * table (filter/rules.ts); elsewhere `save` applies zero and free pages only and records the lower level.
 * `release` is the running kernel's, the one whose crash the capture kernel saves.
 */
export function unsupportedDumpOptions(cfg: KdumpConfig, release: string | undefined): string | undefined {
  if (cfg.format !== 'kdump' || (cfg.dumpLevel & STRUCT_PAGE_CLASSES) === 0) return undefined;
  const mm = majorMinor(release);
  if (VERIFIED_KERNELS.some((k) => k.release === mm)) return undefined;
  return `DUMP_LEVEL=${cfg.dumpLevel}: cache and user pages are filtered only on kernels the filter has verified (${VERIFIED_KERNELS.map((k) => k.release).join(', ')}; docs/kdump.md), not ${release ?? 'this unknown kernel'}: a lower level is applied and recorded in the dump`;
}
/** Dump-level bits that need the verified struct page layout: cache, cache private, user. */
const STRUCT_PAGE_CLASSES = DL_CACHE | DL_CACHE_PRIVATE | DL_USER;

/** The file's text through `read` (Sys.readText); no file means the defaults. */
export function loadKdumpConfig(read: (path: string) => string | undefined, path = CONFIG_PATH): KdumpConfig {
  const text = read(path);
  return text === undefined ? defaultConfig() : parseKdumpConfig(text, path);
}

/** The file as `kdump build-initrd` writes it into the capture image (every key, resolved). */
export function formatKdumpConfig(cfg: KdumpConfig, kernel: string): string {
  const q = (s: string) => `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
  return [
    `# written by kexec-ts kdump build-initrd from ${cfg.source}`,
    `KERNEL=${q(kernel)}`,
    `INITRD=${q(cfg.initrd)}`,
    `APPEND=${q(cfg.append)}`,
    `TARGET=${q(cfg.target)}`,
    `FORMAT=${cfg.format}`,
    `DUMP_LEVEL=${cfg.dumpLevel}`,
    `COMPRESSION=${cfg.compression}`,
    `ACTION=${cfg.action}`,
    `MODULES=${q(cfg.modules.join(' '))}`,
    `NODE_FROM=${cfg.nodeFrom}`,
    `ROOT=${q(cfg.root)}`,
    `NODE_ARGS=${q(cfg.nodeArgs)}`,
    `REQUIRE_SIGNED=${cfg.requireSigned ? 'yes' : 'no'}`,
    `TRUST_CERTS=${q(cfg.trustCerts.join(' '))}`,
    '',
  ].join('\n');
}
