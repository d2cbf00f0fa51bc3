// `npm run bench`: benchmarks side by side with the reference tools, in the lab guest. Prints tables of
// seconds and ratios (kexec-ts / reference); with --json, the raw numbers.
import { benchKexec, formatKexecBench } from './kexec.js';

const json = process.argv.includes('--json');
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

const kexec = await benchKexec(log);
if (json) process.stdout.write(`${JSON.stringify({ kexec }, null, 2)}\n`);
else process.stdout.write(formatKexecBench(kexec));
