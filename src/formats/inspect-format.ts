// The human form of `kexec-ts inspect`: aligned "key: value" lines, containers' parts, and a wrapped
// kernel (UKI .linux, zboot payload) indented under its container.

import type { ImageInfo } from './inspect.js';
import type { InitramfsSummary } from './inspect-parts.js';

const LABELS: ReadonlyArray<readonly [keyof ImageInfo, string]> = [
  ['name', 'file'],
  ['type', 'type'],
  ['arch', 'arch'],
  ['kernelVersion', 'kernel version'],
  ['size', 'size'],
  ['compression', 'compression'],
  ['decompressedSize', 'decompressed size'],
  ['payloadCompression', 'payload compression'],
  ['protocol', 'boot protocol'],
  ['relocatable', 'relocatable'],
  ['prefAddress', 'pref_address'],
  ['kernelAlignment', 'kernel_alignment'],
  ['initSize', 'init_size'],
  ['cmdlineSize', 'cmdline_size'],
  ['xloadflags', 'xloadflags'],
  ['entry', 'entry'],
  ['members', 'cpio members'],
  ['pe', 'PE/EFI stub'],
  ['signed', 'signed'],
  ['loadPaths', 'load with'],
];

/** Rows for the containers: UKI parts, zboot header, initramfs summary (and member list). */
function partRows(info: ImageInfo): [string, string][] {
  const rows: [string, string][] = [];
  const ramfs = (label: string, r: InitramfsSummary) => {
    rows.push([label, `${r.summary}${r.hasInit ? ', /init present' : ', no /init'}`]);
    for (const line of r.list ?? []) rows.push(['member', line]);
  };
  if (info.initramfs) ramfs('initramfs', info.initramfs);
  if (info.uki) {
    const u = info.uki;
    rows.push(['uki sections', u.parts.map((p) => `${p.name} (${p.size})`).join(', ')]);
    if (u.prettyName !== undefined) rows.push(['uki os', u.prettyName]);
    if (u.uname !== undefined) rows.push(['uki uname', u.uname]);
    if (u.cmdline !== undefined) rows.push(['uki cmdline', u.cmdline]);
    if (u.profiles > 0) rows.push(['uki profiles', String(u.profiles)]);
    if (u.initrd) ramfs('uki initrd', u.initrd);
  }
  if (info.zboot) {
    const z = info.zboot;
    rows.push(['zboot', `${z.compType} payload at ${z.payloadOffset}, ${z.payloadSize} bytes`]);
  }
  return rows;
}

/** Human form: one aligned "key: value" line per known field, then notes and warnings. */
export function formatImageInfo(info: ImageInfo): string {
  const rows: [string, string][] = [];
  for (const [key, label] of LABELS) {
    const v = info[key];
    if (v === undefined) continue;
    if (key === 'loadPaths' && Array.isArray(v) && v.length === 0) rows.push([label, '(describe only)']);
    else
      rows.push([
        label,
        Array.isArray(v) ? v.join(', ') : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v),
      ]);
  }
  const sig = info.signature;
  if (sig) {
    if (sig.signer) rows.push(['signer', `${sig.signer} (issuer ${sig.issuer})`]);
    const facts = [
      sig.state,
      sig.digestAlgorithm,
      sig.digestMatches === undefined ? '' : sig.digestMatches ? 'digest matches' : 'DIGEST DIFFERS',
      sig.signatures > 1 ? `${sig.signatures} signatures, the kernel checks the first` : '',
    ].filter(Boolean);
    rows.push(['signature', facts.join(', ')]);
    if (sig.imageDigest) rows.push(['image digest', sig.imageDigest]);
    if (sig.signedDigest && sig.digestMatches === false) rows.push(['signed digest', sig.signedDigest]);
    if (sig.state !== 'valid') rows.push(['signature note', sig.reason]);
  }
  if (info.kernelAccepts) rows.push(['kernel accepts', info.kernelAccepts]);
  rows.push(...partRows(info));
  for (const n of info.notes) rows.push(['note', n]);
  for (const w of info.warnings) rows.push(['warning', w]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  let out = rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n');
  // The wrapped kernel, indented under its container.
  const kernel = info.uki?.kernel ?? info.zboot?.kernel;
  if (kernel) {
    const nested = formatImageInfo(kernel as unknown as ImageInfo).replace(/^/gm, '  ');
    out += `\n${info.uki ? 'kernel (.linux)' : 'kernel (zboot payload)'}:\n${nested}`;
  }
  return out;
}
