// QEMU's human monitor (HMP) on a unix socket, for measurements the guest cannot make about itself:
// `info jit` counts the translated blocks TCG threw away, which is where a TCG guest's time can go.
import { createConnection } from 'node:net';
import { LabError } from '../errors.js';

/** HMP prints this after its banner and after every command's output. */
const PROMPT = '(qemu) ';

/** QEMU arguments that add a monitor on `path` (next to the serial console, which stays on stdio). */
export function monitorArgs(path: string): string[] {
  return ['-monitor', `unix:${path},server,nowait`];
}

/** Runs one HMP command on a fresh connection and returns its output, without the prompt. */
export function hmp(path: string, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new LabError(`QEMU monitor ${path}: no answer to "${command}"`, {
          hint: 'is the guest still running?',
        }),
      );
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      if (!buf.endsWith(PROMPT)) return;
      if (!sent) {
        sent = true;
        buf = '';
        sock.write(`${command}\n`);
        return;
      }
      clearTimeout(timer);
      sock.end();
      // HMP echoes the command line first; the output follows it.
      const lines = buf.slice(0, -PROMPT.length).split(/\r?\n/);
      resolve(lines.filter((l, i) => !(i === 0 && l.includes(command))).join('\n'));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new LabError(`connect(${path}) = ${e.message}`, { hint: 'start the guest with monitorArgs(path)' }),
      );
    });
  });
}
