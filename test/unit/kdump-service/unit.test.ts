import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { kexecTsPackageDir } from '../../../src/initramfs/index.js';
import { kexecTsCommand, systemdUnit, sysvScript, UNIT_NAME } from '../../../src/kdump/service/unit.js';
import { FakeSys } from '../../../src/sys/fake.js';
import { captureIo } from '../../../src/sys/io.js';

/** `[Section]` -> key -> values, as systemd.syntax(7) reads a unit file. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let sec: Map<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      sec = new Map();
      out.set(s[1]!, sec);
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    assert.ok(kv && sec, `not a unit line: ${line}`);
    sec.set(kv[1]!, [...(sec.get(kv[1]!) ?? []), kv[2]!]);
  }
  return out;
}

/** systemd-analyze verify: exit 0 and nothing said (it only warns, exit 0, about unknown values). */
function verify(path: string): { status: number | null; said: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', path], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'systemd-analyze (systemd package) is needed for this check');
  return { status: r.status, said: `${r.stdout}${r.stderr}`.trim() };
}

describe('kdump boot-time unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const node = realpathSync(process.execPath);
  const entry = join(kexecTsPackageDir(), 'dist/src/bin/kexec-ts.js');
  const cmd = kexecTsCommand(node, entry);

  it('systemd unit: oneshot, stays active while loaded, load at start, unload at stop, after local-fs', () => {
    const u = parseUnit(systemdUnit(cmd));
    assert.deepEqual([...u.keys()], ['Unit', 'Service', 'Install']);
    assert.deepEqual(u.get('Unit')!.get('After'), ['local-fs.target']);
    assert.deepEqual(u.get('Service')!.get('Type'), ['oneshot']);
    assert.deepEqual(u.get('Service')!.get('RemainAfterExit'), ['yes']);
    assert.deepEqual(u.get('Service')!.get('ExecStart'), [`${node} ${entry} kdump load`]);
    assert.deepEqual(u.get('Service')!.get('ExecStop'), [`${node} ${entry} kdump unload`]);
    assert.deepEqual(u.get('Install')!.get('WantedBy'), ['multi-user.target']);
  });

  it('systemd-analyze verify accepts it (and does complain about a broken one)', () => {
    const good = join(dir, UNIT_NAME);
    writeFileSync(good, systemdUnit(cmd));
    assert.deepEqual(verify(good), { status: 0, said: '' });
    const bad = join(dir, 'bad.service');
    writeFileSync(bad, systemdUnit(cmd).replace('Type=oneshot', 'Type=oneshoot'));
    assert.match(verify(bad).said, /Failed to parse service type/);
    const missing = join(dir, 'missing.service');
    writeFileSync(missing, systemdUnit(`/nonexistent/node ${entry}`));
    assert.equal(verify(missing).status, 1);
  });

  it('sysvinit script: valid sh, LSB header, start/stop/status run kdump load/unload/status', () => {
    const text = sysvScript(cmd);
    const r = spawnSync('sh', ['-n'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(text, /^### BEGIN INIT INFO\n# Provides: +kexec-ts-kdump\n# Required-Start: +\$local_fs\n/m);
    assert.match(text, /start\) exec \S+ \S+ kdump load ;;/);
    assert.match(text, /stop\) exec \S+ \S+ kdump unload ;;/);
    assert.match(text, /status\) exec \S+ \S+ kdump status ;;/);
  });

  it('kexec-ts kdump install-unit writes the unit (or the script with --sysv, mode 0755)', async () => {
    const io = captureIo();
    assert.equal(await main(['kdump', 'install-unit', '--dir', dir], { sys: new FakeSys({}), io }), 0);
    assert.match(io.out, /systemctl daemon-reload && systemctl enable --now kexec-ts-kdump\.service/);
    assert.equal(readFileSync(join(dir, UNIT_NAME), 'utf8'), systemdUnit(cmd));
    const io2 = captureIo();
    assert.equal(
      await main(['kdump', 'install-unit', '--sysv', '--dir', dir], { sys: new FakeSys({}), io: io2 }),
      0,
    );
    assert.equal(readFileSync(join(dir, 'kexec-ts-kdump'), 'utf8'), sysvScript(cmd));
    assert.equal(statSync(join(dir, 'kexec-ts-kdump')).mode & 0o777, 0o755);
    assert.throws(() => kexecTsCommand('/opt/my node/node', entry), /spaces or shell characters/);
  });
});
