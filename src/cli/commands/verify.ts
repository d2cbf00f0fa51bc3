// `kexec-ts verify`: is a kernel image validly signed by a trusted certificate, and will the running
// kernel accept it (kexec/verify.ts does the work).
import { defineCommand, JSON_OPTION } from '../command.js';

export const VERIFY = defineCommand({
  name: 'verify',
  summary: "check a kernel image's Authenticode signature, and whether the running kernel will accept it",
  manSection: 8,
  description: [
    "Parses the PE image's Authenticode signature (PKCS#7 SignedData): signer, issuer, certificates, " +
      'digest algorithm. Computes the image digest as the kernel does (the CheckSum field and the ' +
      "certificate table excluded) and compares it with the signed one, checks the signer's signature, " +
      'and looks for a trusted certificate: those given with --cert and --keyring, the UEFI db and ' +
      'MokListRT (efivarfs), and the kernel keys /proc/keys shows. Like the kernel, only the first ' +
      'signature counts.',
    'Exits 0 only when the image is validly signed by a trusted certificate; 1 otherwise. Also says ' +
      'whether the running kernel will accept the image with kexec_file_load: yes, no, or cannot tell, ' +
      'and why. Reads only; loads nothing.',
  ],
  options: [
    { ...JSON_OPTION, help: 'machine-readable output' },
    {
      id: 'cert',
      long: ['cert'],
      arg: 'PEM',
      repeatable: true,
      complete: 'file',
      help: 'trust this certificate (PEM or DER); may be given more than once',
    },
    {
      id: 'keyring',
      long: ['keyring'],
      arg: 'PATH',
      repeatable: true,
      complete: 'file',
      help: 'trust every certificate in PATH: a PEM bundle, or a directory of PEM/DER files',
    },
    {
      id: 'noMachine',
      long: ['no-machine-trust'],
      help: 'trust only --cert and --keyring, not the UEFI db, MOK or kernel keys',
    },
  ],
  operands: [
    {
      name: 'FILE',
      complete: 'kernel',
      help: 'a kernel image (bzImage, EFI zboot, UKI)',
      noun: 'image',
      example: 'kexec-ts verify --cert db.pem /boot/vmlinuz',
    },
  ],
  run: async ({ json, cert, keyring, noMachine, FILE }, { io, getSys }) => {
    const { verifyFile, formatVerify } = await import('../../kexec/verify.js');
    const result = verifyFile(await getSys(), FILE, {
      certs: cert,
      keyrings: keyring,
      machineTrust: !noMachine,
    });
    io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : formatVerify(result));
    return result.trusted ? 0 : 1;
  },
});
