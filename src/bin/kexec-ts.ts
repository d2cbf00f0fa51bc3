#!/usr/bin/env node
// The bin's first module. It must load and run on any Node.js that a distribution may start it with
// (10 on Ubuntu 20.04 reads it as CommonJS, 12 on Ubuntu 22.04 as an ES module), so that an unsupported
// one prints the plain message below instead of a SyntaxError or a crash deep inside a command. So: no
// import or export statement, no import.meta, no top-level await, nothing newer than ES2017 (no ?. or ??).
// The rest of kexec-ts is loaded by import() only once the running Node.js is known to be supported.
// The range and why: docs/packaging.md; package.json "engines" says the same (test/unit/cli/bin.test.ts).

// A block, so that nothing here is a global of the TypeScript program (this file is a script to tsc:
// tsconfig.json moduleDetection "legacy" keeps it from emitting `export {}`).
{
  /** The oldest supported Node.js: Ubuntu 24.04's 18.19 (Debian 12 ships 18.20, Debian 13 20.19). */
  const MINIMUM_NODE = '18.19.0';

  /** Whether dotted version `a` is older than `b` (numbers compared part by part). */
  function older(a: string, b: string): boolean {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < 3; i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0);
    return false;
  }

  if (older(process.versions.node, MINIMUM_NODE)) {
    process.stderr.write(
      `kexec-ts: this is Node.js ${process.versions.node}; kexec-ts needs Node.js ${MINIMUM_NODE} or later\n` +
        '  hint: install a newer nodejs package (Debian 12, Debian 13 and Ubuntu 24.04 ship one), or run kexec-ts with a newer node\n',
    );
    process.exitCode = 1;
  } else {
    import('../cli/main.js')
      .then((m) => m.main(process.argv.slice(2)))
      .then((code) => {
        process.exitCode = code;
      })
      .catch((err: unknown) => {
        process.stderr.write(
          `kexec-ts: internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`,
        );
        process.exitCode = 70;
      });
  }
}
