// `npm run bench [-- NAME...] [-- --json]`: benchmarks side by side with the reference tools on the same
// input in the same run, printed as tables with ratios (kexec-ts / reference). NAME: kexec, purgatory,
// vmcore (default: all). Each boots its own lab guest or uses the lab's saved vmcore.
import { benchKexec, formatKexecBench } from './kexec.js';
import { benchPurgatory, formatPurgatoryBench } from './purgatory.js';
import { benchVmcore, formatVmcoreBench } from './vmcore.js';

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const BENCHES = {
  kexec: async () => formatKexecBench(await benchKexec(log)),
  purgatory: async () => formatPurgatoryBench(await benchPurgatory(log)),
  vmcore: async () => formatVmcoreBench(await benchVmcore(log)),
} as const;
type Name = keyof typeof BENCHES;

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((a) => !(a in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of (asked.length > 0 ? asked : Object.keys(BENCHES)) as Name[]) {
  process.stdout.write(`\n== ${name}\n${await BENCHES[name]()}`);
}
