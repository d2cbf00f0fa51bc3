// Building the new kernel's command line the way kexec-tools does (kexec/kexec.c get_command_line(),
// remove_parameter(), concat_cmdline()), plus --reuse-console.

/**
 * Split a command line into parameters the way the kernel does (lib/cmdline.c next_arg): spaces separate,
 * double quotes group and are kept in the word.
 */
export function splitParams(cmdline: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of cmdline) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && /\s/.test(ch)) {
      if (cur) words.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur) words.push(cur);
  return words;
}

/** The parameter's name: what stands before `=` (quotes around the whole word are ignored). */
export function paramName(word: string): string {
  const bare = word.startsWith('"') ? word.slice(1) : word;
  const eq = bare.indexOf('=');
  return eq < 0 ? bare : bare.slice(0, eq);
}

/** Drop every `name=...` (and bare `name`) parameter, repeats included. */
export function removeParam(cmdline: string, name: string): string {
  return splitParams(cmdline)
    .filter((w) => paramName(w) !== name)
    .join(' ');
}

export interface CmdlineRequest {
  /** --append / --command-line (last one given). */
  append?: string | undefined;
  /** --reuse-cmdline: start from the running kernel's command line. */
  reuseCmdline: boolean;
  /** --reuse-console: add the running kernel's console= parameters unless the result has its own. */
  reuseConsole: boolean;
  /** -p: also drop crashkernel= when reusing. */
  crash: boolean;
}

/** The running kernel's command line as read from /proc/cmdline (trailing newline removed). */
export function buildCmdline(req: CmdlineRequest, procCmdline: string | undefined): string {
  const running = (procCmdline ?? '').replace(/\n$/, '');
  let reused = '';
  if (req.reuseCmdline) {
    reused = removeParam(running, 'BOOT_IMAGE');
    if (req.crash) reused = removeParam(reused, 'crashkernel');
  }
  // concat_cmdline(): reused, a space, then the appended part.
  let line = [reused, req.append ?? ''].filter((s) => s.length > 0).join(' ');
  if (req.reuseConsole) {
    const has = splitParams(line).some((w) => paramName(w) === 'console');
    if (!has) {
      const consoles = splitParams(running).filter((w) => paramName(w) === 'console');
      line = [line, ...consoles].filter((s) => s.length > 0).join(' ');
    }
  }
  return line;
}
