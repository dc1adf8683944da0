import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '@forgeone/common';
import { inCi } from '@forgeone/common/testing';
import { probeIsolation, type IsolationProbe } from '@forgeone/plugin-manager';
import { forge } from '../../../test-support/cli.js';
import { doctorCommand } from './doctor.js';

const NAMES = ['bubblewrap', 'user-namespaces', 'bubblewrap-seccomp', 'seccomp', 'cgroup-memory', 'cgroup-cpu', 'cgroup-pids', 'cgroup-freezer'];

describe('forge doctor', () => {
  it('prints every capability of this host with ok or missing, and exits 0 only when all are there', async () => {
    const probe = await probeIsolation();
    if (inCi()) assert.equal(probe.ready, true, `CI machines support the process backend: ${JSON.stringify(probe.capabilities)}`);
    const run = await forge(['doctor']);
    assert.equal(run.status, probe.ready ? 0 : EXIT_CODES.unavailable, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.split(/\s+/).slice(0, 2)),
      probe.capabilities.map((capability) => [capability.ok ? 'ok' : 'missing', capability.name]),
    );
    assert.deepEqual(probe.capabilities.map((capability) => capability.name), NAMES);
    if (probe.ready) assert.match(run.stderr, /supports the process backend \(cgroup v[12]\)/);
  });

  it('prints the same facts as JSON with --json', async () => {
    const probe = await probeIsolation();
    const run = await forge(['doctor', '--json']);
    assert.equal(run.status, probe.ready ? 0 : EXIT_CODES.unavailable, run.stderr);
    const json = JSON.parse(run.stdout) as IsolationProbe & { cgroupVersion: 1 | 2 | null };
    assert.deepEqual(json, { ...probe, cgroupVersion: probe.cgroupVersion ?? null });
    assert.equal(run.stderr, '');
  });

  it('names what is missing and why, escapes it for the terminal, and exits with the unavailable status', async () => {
    const broken: IsolationProbe = {
      ready: false,
      cgroupVersion: 1,
      capabilities: [
        { name: 'bubblewrap', ok: true, detail: 'bubblewrap 0.8.0' },
        { name: 'cgroup-freezer', ok: false, detail: 'cannot freeze: \u001b[31mEACCES' },
      ],
    };
    const run = await forge(['doctor'], { commands: [doctorCommand(() => Promise.resolve(broken))] });
    assert.equal(run.status, EXIT_CODES.unavailable);
    assert.equal(EXIT_CODES.unavailable, 9);
    assert.equal(run.stdout, 'ok       bubblewrap      bubblewrap 0.8.0\nmissing  cgroup-freezer  cannot freeze: \\u{1b}[31mEACCES\n');
    assert.equal(run.stderr, 'the process backend cannot run here: cgroup-freezer missing\n');
    const json = await forge(['doctor', '--json'], { commands: [doctorCommand(() => Promise.resolve(broken))] });
    assert.equal(json.status, EXIT_CODES.unavailable);
    assert.equal((JSON.parse(json.stdout) as IsolationProbe).capabilities[1]?.detail, 'cannot freeze: \u001b[31mEACCES');
  });
});
