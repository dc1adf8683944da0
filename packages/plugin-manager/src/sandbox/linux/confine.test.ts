import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import type { Cgroup } from './cgroup.js';
import { confinementArgs, type ConfinementSpec } from './confine.js';
import { launchConfined } from './launch.js';
import { parseLdd } from './runtime-paths.js';
import type { SeccompArch } from './seccomp.js';
import { requireConfinement, scratch, specFor } from './test-support/confine-run.js';

const base: ConfinementSpec = { node: '/usr/bin/node', script: '/app/main.js', runtimePaths: ['/usr/bin/node', '/app'] };

/** The value after each occurrence of `flag` (or the pair after it, `width` 2). */
function after1(args: readonly string[], flag: string, width = 1): string[][] {
  return args.flatMap((arg, i) => (arg === flag ? [args.slice(i + 1, i + 1 + width)] : []));
}

describe('confinementArgs', () => {
  it('unshares every namespace, drops capabilities, clears the environment and ends with the filter and the program', () => {
    const args = confinementArgs({ ...base, args: ['--x'], env: { FORGE_PLUGIN: 'p1' } });
    for (const flag of ['--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--unshare-net', '--die-with-parent', '--new-session', '--clearenv']) {
      assert.ok(args.includes(flag), flag);
    }
    assert.deepEqual(after1(args, '--cap-drop'), [['ALL']]);
    assert.deepEqual(after1(args, '--hostname'), [['forge-sandbox']]);
    assert.deepEqual(after1(args, '--setenv', 2), [['FORGE_PLUGIN', 'p1']]);
    assert.ok(args.indexOf('--clearenv') < args.indexOf('--setenv'));
    assert.deepEqual(after1(args, '--ro-bind', 2), [['/app', '/app'], ['/usr/bin/node', '/usr/bin/node']]);
    assert.deepEqual(args.slice(-10), ['--remount-ro', '/', '--chdir', '/', '--seccomp', '3', '--', '/usr/bin/node', '/app/main.js', '--x']);
  });

  it('binds volumes with their rights after the runtime, /proc, /dev and /tmp, then makes the root read-only', () => {
    const args = confinementArgs({ ...base, tmpBytes: 8 << 20, volumes: [{ host: '/srv/out', guest: '/data/out', readOnly: false }, { host: '/srv/in', guest: '/in', readOnly: true }] });
    assert.deepEqual(after1(args, '--bind', 2), [['/srv/out', '/data/out']]);
    assert.deepEqual(after1(args, '--ro-bind', 2).at(-1), ['/srv/in', '/in']);
    assert.deepEqual(after1(args, '--size', 2), [[String(8 << 20), '--tmpfs']]);
    const order = ['--proc', '--dev', '--tmpfs', '--bind', '--remount-ro', '--seccomp', '--'].map((flag) => args.indexOf(flag));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.ok(args.lastIndexOf('--ro-bind') < args.indexOf('--remount-ro'));
  });

  it('keeps the host network only when asked', () => {
    assert.equal(confinementArgs({ ...base, network: true }).includes('--unshare-net'), false);
    assert.equal(confinementArgs({ ...base, network: false }).includes('--unshare-net'), true);
  });

  it('refuses bad paths, overlapping mounts and bad variables, listing every problem', () => {
    const error = throwsCode(
      () =>
        confinementArgs({
          node: 'node',
          script: '/app/../etc/shadow',
          args: ['a\0b'],
          runtimePaths: ['/', '/usr/bin/node', '/tmp/dist', '/app//x', '/proc/self'],
          volumes: [
            { host: '/srv/a\0', guest: '/data', readOnly: false },
            { host: '/srv/b', guest: '/data/sub', readOnly: true },
            { host: '/srv/c', guest: '/usr', readOnly: true },
            { host: 'srv', guest: '/tmp', readOnly: false },
            { host: '/srv/d', guest: '/', readOnly: false },
          ],
          env: { 'A=B': 'x', OK: 'a\0' },
          tmpBytes: 10,
          seccompFd: 1,
        }),
      'FO_SANDBOX_BAD_OPTION',
    );
    const problems = (error.details as { problems: string[] }).problems;
    const expected = [
      'node: expected an absolute path, found "node"',
      `script: a path must not contain '..' segments`,
      'args[0]: expected a string without NUL',
      "runtimePaths[0]: the host's root cannot be a runtime path",
      "runtimePaths[2]: /tmp/dist overlaps the sandbox's own /tmp",
      'runtimePaths[3]: expected a normalised path, found "/app//x"',
      "runtimePaths[4]: /proc/self overlaps the sandbox's own /proc",
      'volumes[0].host: a path must not contain NUL',
      'volumes[1].guest: /data/sub overlaps the volume at /data',
      "volumes[2].guest: /usr overlaps the runtime's /usr/bin/node",
      'volumes[3].host: expected an absolute path, found "srv"',
      "volumes[3].guest: /tmp overlaps the runtime's /tmp",
      "volumes[4].guest: / overlaps the runtime's /proc",
      'env: expected a variable name',
      'env.OK: expected a string without NUL',
      'tmpBytes: expected an integer of at least 1 MiB, found 10',
      'seccompFd: expected an integer from 3 to 1023, found 1',
    ];
    for (const text of expected) assert.ok(problems.some((problem) => problem.startsWith(text)), `missing ${text} in\n${problems.join('\n')}`);
  });
});

describe('parseLdd', () => {
  it('reads the libraries and the loader, not the vDSO', () => {
    const output = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1b)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f1c)\n';
    assert.deepEqual(parseLdd(output), ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });
});

describe('launchConfined fails closed', () => {
  let dir = '';
  let remove = (): void => undefined;
  before(() => ({ dir, remove } = scratch()));
  after(() => remove());

  /** A spec whose script would leave a marker in a read-write volume if it ever ran. */
  async function markerSpec(name: string): Promise<{ spec: ConfinementSpec; marker: string }> {
    const out = join(dir, `out-${name}`);
    mkdirSync(out);
    writeFileSync(join(dir, `${name}.js`), "require('fs').writeFileSync('/out/ran', 'yes')");
    return { spec: await specFor(dir, `${name}.js`, { volumes: [{ host: out, guest: '/out', readOnly: false }] }), marker: join(out, 'ran') };
  }

  it('refuses a bubblewrap that is not there (FO_SANDBOX_UNAVAILABLE)', async () => {
    const { spec, marker } = await markerSpec('no-bwrap');
    const error = await rejectsWithCode(launchConfined(spec, { bwrap: join(dir, 'no-such-bwrap') }), 'FO_SANDBOX_UNAVAILABLE');
    assert.match(error.message, /bubblewrap is not executable/);
    assert.equal(existsSync(marker), false);
  });

  it('refuses when the seccomp filter cannot be built (FO_SANDBOX_UNAVAILABLE)', async () => {
    const { spec, marker } = await markerSpec('no-seccomp');
    const error = await rejectsWithCode(launchConfined(spec, { seccomp: { arch: 'ia32' as SeccompArch } }), 'FO_SANDBOX_UNAVAILABLE');
    assert.match(error.message, /seccomp filter cannot be built/);
    assert.equal(existsSync(marker), false);
  });

  it('never runs the script when the process cannot join its cgroup (FO_SANDBOX_UNAVAILABLE naming the file)', async (t) => {
    if (!(await requireConfinement(t))) return;
    const { spec, marker } = await markerSpec('no-cgroup');
    const missing = join(dir, 'no-such-group');
    const fake: Cgroup = { id: 'fake', version: 1, dirs: [missing] } as unknown as Cgroup;
    const error = await rejectsWithCode(launchConfined(spec, { cgroup: fake }), 'FO_SANDBOX_UNAVAILABLE');
    assert.match(error.message, new RegExp(`cannot join the cgroup through ${join(missing, 'cgroup.procs')}`));
    assert.equal(existsSync(marker), false, 'the script ran although its cgroup could not be joined');
  });

  it('runs the same script when nothing fails (the marker test above can fail)', async (t) => {
    if (!(await requireConfinement(t))) return;
    const { spec, marker } = await markerSpec('runs');
    const box = await launchConfined(spec);
    assert.deepEqual(await box.exited, { code: 0, signal: null });
    assert.equal(existsSync(marker), true);
  });

  it('refuses limits it cannot apply and volume paths that run through a link (FO_SANDBOX_BAD_OPTION)', async () => {
    const { spec } = await markerSpec('bad-limits');
    const noGroup = await rejectsWithCode(launchConfined(spec, { limits: { memoryBytes: 64 << 20, fileDescriptors: 3 } }), 'FO_SANDBOX_BAD_OPTION');
    assert.deepEqual((noGroup.details as { problems: string[] }).problems, [
      'limits.fileDescriptors: expected an integer from 16 to 1048576, found 3',
      'limits: memory, CPU and pids limits need a cgroup',
    ]);
    const link = join(dir, 'link-to-out');
    symlinkSync(join(dir, 'out-bad-limits'), link);
    const linked = await rejectsWithCode(launchConfined({ ...spec, volumes: [...(spec.volumes ?? []), { host: link, guest: '/other', readOnly: false }] }), 'FO_SANDBOX_BAD_OPTION');
    assert.match(linked.message, /volumes\[2\]\.host: expected an existing path without links/);
  });
});
