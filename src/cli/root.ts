// kexec-ts itself: the kexec-tools options (options.ts) and, as a first word, the commands kexec-tools
// lacks (commands/index.ts). Its run() keeps kexec-tools' order-dependent semantics (invocation.ts).
import { SyscallError } from '../errors.js';
import { SIGNATURE_ERRNOS } from '../sys/errno.js';
import { defineCommand } from './command.js';
import { COMMANDS } from './commands/index.js';
import { renderHelp, VERSION_TEXT } from './help.js';
import { resolveInvocation } from './invocation.js';
import { type KexecOption, OPTIONS } from './options.js';
import type { ParsedArgv } from './parse-argv.js';

const HEADINGS: Record<KexecOption['group'], string> = {
  action: 'Actions (the last one given decides, as in kexec-tools)',
  general: 'Options',
  linux: 'Linux kernel options',
  'kexec-ts': 'kexec-ts additions',
  compat: 'Accepted for kexec-tools compatibility',
};

export const ROOT = defineCommand({
  name: 'kexec-ts',
  summary: 'load and start another Linux kernel (kexec), and more',
  banner: VERSION_TEXT,
  usage: [
    '[OPTIONS] [KERNEL]',
    '-l KERNEL [--initrd=FILE] [--append=STRING | --reuse-cmdline]',
    '-e | -u | -p KERNEL | -S',
    'COMMAND [ARGS...]',
  ],
  description: [
    'Without an action, KERNEL is loaded and the init system is asked to kexec-reboot ' +
      '(systemctl kexec, else shutdown -r now).',
  ],
  options: OPTIONS,
  groups: HEADINGS,
  operands: [{ name: 'KERNEL', arity: 'optional', complete: 'kernel' }],
  ownOperands: true,
  subcommands: COMMANDS,
  exitStatus: [
    '0 ok; 1 usage or precondition error; 255 load failed; 253 -s failed where -a would fall back.',
  ],
  run: async (_values, { io, getSys }, { parsed }) => {
    const inv = resolveInvocation(parsed as ParsedArgv<KexecOption>);
    if (inv.mode === 'help') {
      io.stdout(renderHelp(ROOT, []));
      return 0;
    }
    if (inv.mode === 'version') {
      io.stdout(`${VERSION_TEXT}\n`);
      return 0;
    }
    // Loaded here, not at the top: subcommands (vmcore save in a capture kernel) skip the kexec stack.
    const { runKexec } = await import('./run-kexec.js');
    const sys = await getSys();
    try {
      if (!inv.requireSigned) return runKexec(inv, sys, io);
      const { requireSignedImage } = await import('../kexec/signature-gate.js');
      return runKexec(inv, sys, io, {
        checkImage: (path, kernel) => requireSignedImage(sys, path, kernel, inv.trustCerts),
      });
    } catch (e) {
      // The kernel refused the signature: say who signed this kernel and what the machine trusts.
      if (
        e instanceof SyscallError &&
        e.syscall === 'kexec_file_load' &&
        SIGNATURE_ERRNOS.has(e.errno) &&
        inv.kernel !== undefined
      ) {
        const { explainSignatureError } = await import('../kexec/signature-gate.js');
        throw explainSignatureError(sys, inv.kernel, e);
      }
      throw e;
    }
  },
});
