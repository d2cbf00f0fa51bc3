// `kexec-ts doctor`: can this machine kexec, and why not (kexec/doctor.ts does the checks).
import { defineCommand, JSON_OPTION } from '../command.js';

export const DOCTOR = defineCommand({
  name: 'doctor',
  summary: 'can this machine kexec, and why not',
  description: [
    'Can this machine kexec? Kernel options, syscalls, permissions, lockdown and Secure Boot, the ' +
      'crashkernel= reservation and what is loaded, each with a hint when it is not ready. Reads only; ' +
      'loads nothing.',
  ],
  options: [JSON_OPTION],
  run: async ({ json }, { io, getSys }) => {
    const { runDoctor, formatDoctor } = await import('../../kexec/doctor.js');
    const report = runDoctor(await getSys());
    io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    return 0;
  },
});
