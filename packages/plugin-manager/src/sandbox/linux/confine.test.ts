import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import type { Cgroup } from './cgroup.js';
import { CgroupHost } from './cgroups.js';
import { confinementArgs, type ConfinementSpec } from './confine.js';
import { launchConfined } from './launch.js';
import { parseLdd } from './runtime-paths.js';
import type { SeccompArch } from './seccomp.js';
import { confinementUnavailable, reportOf, requireConfinement, runConfined, scratch, specFor } from './test-support/confine-run.js';

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

  it('binds a runtime path inside /tmp (a checkout there) read-only over the private /tmp, after it is mounted', () => {
    const args = confinementArgs({ ...base, runtimePaths: [...base.runtimePaths, '/tmp/checkout/dist'] });
    const bound = args.findIndex((arg, i) => arg === '/tmp/checkout/dist' && args[i - 1] === '--ro-bind');
    assert.ok(bound > args.indexOf('--tmpfs'), 'bound after the tmpfs, not hidden by it');
    assert.equal(throwsCode(() => confinementArgs({ ...base, runtimePaths: [...base.runtimePaths, '/tmp'] }), 'FO_SANDBOX_BAD_OPTION').message.includes("/tmp overlaps the sandbox's own /tmp"), true);
  });

  it('puts Node options between the binary and the script', () => {
    const args = confinementArgs({ ...base, nodeOptions: ['--max-semi-space-size=1'] });
    assert.deepEqual(args.slice(args.indexOf('--') + 1, args.indexOf('--') + 4), [base.node, '--max-semi-space-size=1', base.script]);
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
          // A script where an option goes, and an option with a NUL.
          nodeOptions: ['--max-semi-space-size=1', '/tmp/evil.js', '--eval\0x'],
          runtimePaths: ['/', '/usr/bin/node', '/dev/shm', '/app//x', '/proc/self'],
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
      'nodeOptions[1]: expected --name or --name=value, found "/tmp/evil.js"',
      'nodeOptions[2]: expected --name or --name=value',
      "runtimePaths[0]: the host's root cannot be a runtime path",
      "runtimePaths[2]: /dev/shm overlaps the sandbox's own /dev",
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

  it('refuses limits it cannot apply, a bwrap looked up in PATH and volume paths that run through a link (FO_SANDBOX_BAD_OPTION)', async () => {
    const { spec } = await markerSpec('bad-limits');
    const noGroup = await rejectsWithCode(launchConfined(spec, { limits: { memoryBytes: 64 << 20, fileDescriptors: 3 }, bwrap: 'bwrap' }), 'FO_SANDBOX_BAD_OPTION');
    assert.deepEqual((noGroup.details as { problems: string[] }).problems, [
      'limits.fileDescriptors: expected an integer from 16 to 1048576, found 3',
      'limits: memory, CPU and pids limits need a cgroup',
      'bwrap: expected an absolute path, found "bwrap"',
    ]);
    const link = join(dir, 'link-to-out');
    symlinkSync(join(dir, 'out-bad-limits'), link);
    const linked = await rejectsWithCode(launchConfined({ ...spec, volumes: [...(spec.volumes ?? []), { host: link, guest: '/other', readOnly: false }] }), 'FO_SANDBOX_BAD_OPTION');
    assert.match(linked.message, /volumes\[2\]\.host: expected an existing path without links/);
  });
});

describe("a confined sandbox's cgroup, limits and lifetime (a real kernel)", () => {
  let dir = '';
  let remove = (): void => undefined;
  let host: CgroupHost | undefined;
  before(async () => {
    ({ dir, remove } = scratch());
    if ((await confinementUnavailable()) === undefined) host = await CgroupHost.open();
  });
  after(async () => {
    await host?.close();
    remove();
  });

  it('is inside its cgroup from its first instruction: the cgroup namespace bwrap made is rooted at the sandbox group', async (t) => {
    if (!(await requireConfinement(t)) || host === undefined) return;
    const group = await host.create('first-instruction');
    let seen = '';
    let resolveSeen = (): void => undefined;
    const printed = new Promise<void>((resolve) => (resolveSeen = resolve));
    const run = runConfined(dir, 'cgroup.js', "process.stdout.write(require('fs').readFileSync('/proc/self/cgroup', 'utf8') + 'END\\n'); setInterval(() => {}, 1000);", {
      cgroup: group,
      onStdout: (chunk) => {
        seen += chunk;
        if (seen.includes('END\n')) resolveSeen();
      },
    });
    await printed;
    // Inside, every hierarchy shows "/": the namespace's root is the group the process was
    // in when bwrap unshared it, before Node was executed. From the host, that group is the sandbox's.
    const inside = seen.replace('END\n', '').trim().split('\n');
    for (const controller of ['memory', 'pids', 'freezer']) {
      const line = inside.find((entry) => entry.split(':')[1]?.split(',').includes(controller));
      assert.equal(line?.split(':')[2], '/', `${controller}: ${line}`);
    }
    // bwrap's short-lived helpers pass through the group too; the script's own Node process is the one to check.
    const read = (path: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return '';
      }
    };
    const node = (await group.pids()).filter((pid) => read(`/proc/${pid}/cmdline`).split('\0').slice(0, 2).join(' ') === `${process.execPath} /forge/cgroup.js`);
    assert.equal(node.length, 1, 'the script runs in the group');
    const hostView = read(`/proc/${node[0]}/cgroup`).split('\n').find((entry) => entry.split(':')[1]?.split(',').includes('memory'));
    assert.ok(hostView?.endsWith(`/forgeone/${host.name}/first-instruction`), `the host sees it in ${hostView}`);
    await group.remove();
    await run;
  });

  it('a 64 MiB memory limit kills a script allocating 512 MiB, and checkMemory says FO_SANDBOX_MEMORY_LIMIT', async (t) => {
    if (!(await requireConfinement(t)) || host === undefined) return;
    const group = await host.create('memory');
    const source = "const kept = []; for (let i = 0; i < 32; i++) kept.push(Buffer.alloc(16 << 20, 1)); console.log('allocated', kept.length);";
    const run = await runConfined(dir, 'memory.js', source, { cgroup: group, limits: { memoryBytes: 64 << 20 } });
    assert.equal(run.stdout.includes('allocated'), false, run.stdout);
    assert.notEqual(run.exit.code, 0);
    await rejectsWithCode(group.checkMemory(), 'FO_SANDBOX_MEMORY_LIMIT');
    await group.remove();
  });

  it('RLIMIT_NOFILE 32 makes opening 64 files fail with EMFILE (and without it all 64 open)', async (t) => {
    if (!(await requireConfinement(t))) return;
    const source = "const fs = require('fs'); let opened = 0, error = 'none'; for (let i = 0; i < 64; i++) { try { fs.openSync('/dev/null', 'r'); opened++; } catch (e) { error = e.code; break; } } console.log(JSON.stringify({ opened, error }));";
    const limited = reportOf(await runConfined(dir, 'nofile.js', source, { limits: { fileDescriptors: 32 } }));
    assert.equal(limited['error'], 'EMFILE');
    assert.ok((limited['opened'] as number) < 32);
    assert.deepEqual(reportOf(await runConfined(dir, 'nofile.js', source)), { opened: 64, error: 'none' });
  });

  it('dies with the process that launched it, and gets none of the descriptors that process inherited', async (t) => {
    if (!(await requireConfinement(t)) || host === undefined) return;
    const group = await host.create('die-with-parent');
    writeFileSync(join(dir, 'forever.js'), "const fs = require('fs'); let leaked = 'none'; try { fs.fstatSync(39); leaked = 'fd 39 is open'; } catch (e) { leaked = e.code; } console.log('ready', leaked); setInterval(() => {}, 1000);");
    const spec = await specFor(dir, 'forever.js');
    const launcherSource = `const { launchConfined } = await import(process.argv[2]);
const box = await launchConfined(JSON.parse(process.argv[3]), { cgroup: { id: 'die-with-parent', version: 1, dirs: JSON.parse(process.argv[4]) } });
box.stdout.pipe(process.stdout);`;
    writeFileSync(join(dir, 'launcher.mjs'), launcherSource);
    // fd 39 is a pipe the launcher inherits without close-on-exec, as a host may from its parent.
    const stdio: ('pipe' | 'ignore')[] = Array.from({ length: 40 }, (_, fd) => (fd <= 2 || fd === 39 ? 'pipe' : 'ignore'));
    const launcher = spawn(process.execPath, [join(dir, 'launcher.mjs'), new URL('./launch.js', import.meta.url).href, JSON.stringify(spec), JSON.stringify(group.dirs)], { stdio });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      launcher.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve();
      });
      launcher.once('exit', () => reject(new Error(`the launcher exited: ${out}`)));
    });
    assert.equal(out.trim(), 'ready EBADF');
    const before = await group.pids();
    assert.ok(before.length >= 2, `found ${before.join(',')}`);
    launcher.kill('SIGKILL');
    while ((await group.pids()).length > 0) await sleep(20);
    // Gone, or a zombie its new parent has not reaped yet: either way no longer running.
    const state = (pid: number): string => {
      try {
        return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
      } catch {
        return 'gone';
      }
    };
    for (const pid of before) assert.ok(['gone', 'Z'].includes(state(pid)), `pid ${pid} still runs (state ${state(pid)})`);
    await group.remove();
  });
});
