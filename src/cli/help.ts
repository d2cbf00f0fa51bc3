// --help, rendered from the option table so it cannot drift from what the parser accepts.
import { createRequire } from 'node:module';
import { OPTIONS, type OptionSpec } from './options.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export const VERSION_TEXT = `kexec-ts ${pkg.version} (kexec-tools 2.0.32 compatible options)`;

const HEADINGS: Record<OptionSpec['group'], string> = {
  action: 'Actions (the last one given decides, as in kexec-tools)',
  general: 'Options',
  linux: 'Linux kernel options',
  'kexec-ts': 'kexec-ts additions',
  compat: 'Accepted for kexec-tools compatibility',
};

function spelling(o: OptionSpec): string {
  const longs = o.long.map((l) => `--${l}${o.arg ? '=VALUE' : ''}`);
  return [o.short ? `-${o.short}` : undefined, ...longs].filter(Boolean).join(', ');
}

export function helpText(): string {
  const lines = [
    VERSION_TEXT,
    '',
    'Usage: kexec-ts [OPTIONS] [KERNEL]',
    '       kexec-ts -l KERNEL [--initrd=FILE] [--append=STR | --reuse-cmdline]',
    '       kexec-ts -e | -u | -p KERNEL | -S',
    '       kexec-ts inspect FILE... [--json]     what an image is and how it can be loaded',
    '       kexec-ts doctor [--json]              can this machine kexec, and why not',
    '       kexec-ts vmcore info|dmesg|save ...   read a crash dump (default /proc/vmcore)',
    '       kexec-ts lab setup|build|boot|demo    try kexec safely in a QEMU guest',
    '',
    'Without an action, KERNEL is loaded and the init system is asked to kexec-reboot',
    '(systemctl kexec, else shutdown -r now).',
  ];
  for (const group of Object.keys(HEADINGS) as OptionSpec['group'][]) {
    lines.push('', `${HEADINGS[group]}:`);
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      const s = spelling(o);
      lines.push(s.length > 40 ? `  ${s}\n${' '.repeat(44)}${o.help}` : `  ${s.padEnd(42)}${o.help}`);
    }
  }
  lines.push(
    '',
    'Exit status: 0 ok; 1 usage or precondition error; 255 load failed; 253 -s failed where -a would fall back.',
  );
  return `${lines.join('\n')}\n`;
}
