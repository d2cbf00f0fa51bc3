// Every subcommand of kexec-ts, in the order --help and kexec-ts(8) list them. A new command is one
// table file beside this one (docs/cli.md, "Adding a command") and one line here.
import type { Command } from '../command.js';
import { DOCTOR } from './doctor.js';
import { INSPECT } from './inspect.js';
import { KDUMP } from './kdump.js';
import { LAB } from './lab.js';
import { VERIFY } from './verify.js';
import { VMCORE } from './vmcore.js';

export const COMMANDS: readonly Command[] = [INSPECT, VERIFY, DOCTOR, VMCORE, KDUMP, LAB];
