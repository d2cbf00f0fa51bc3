// The subcommands not yet declared as tables (commands/): each gets argv as it was given.
import type { Io } from '../sys/io.js';
import type { Sys } from '../sys/types.js';

interface LegacyContext {
  io: Io;
  getSys(): Promise<Sys>;
}
type Legacy = (argv: string[], ctx: LegacyContext) => Promise<number>;

const lab: Legacy = async (argv, { io }) => {
  const { labCommand } = await import('../lab/command.js');
  return labCommand(argv, io);
};

const vmcore: Legacy = async (argv, { io }) => {
  const { vmcoreCommand } = await import('../kdump/command.js');
  return vmcoreCommand(argv, io);
};

const kdump: Legacy = async (argv, { io, getSys }) => {
  const { kdumpCommand } = await import('../kdump/service/command.js');
  return kdumpCommand(argv, { io, getSys });
};

export const LEGACY: Record<string, Legacy> = { lab, vmcore, kdump };
