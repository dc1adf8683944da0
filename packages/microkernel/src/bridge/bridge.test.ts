import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext, object, required, string, type PluginIdentity } from '@forgeone/common';
import { AnomalyDetector, type Anomaly } from '../anomaly/index.js';
import { CedarPolicies, TrustContext, type Ceiling } from '../trust/index.js';
import { AuditLog, type AuditLevel } from '../audit/index.js';
import { tempDir } from '../audit/test-support/logs.js';
import { SyscallBridge, type BridgeAuditEntry } from './index.js';

const host = new IdentityContext('test-host');
const plugin: PluginIdentity = { publisher: 'acme', name: 'weather', version: '2.0.0', digest: `sha256:${'3'.repeat(64)}`, attested: true };
const identity = host.forPlugin(plugin);
const ceiling: Ceiling = { filesystem: [], network: [], allowed_hosts: [], syscalls: ['forge.weather'], volumes: [] };

function setup(level: AuditLevel = 'decisions') {
  const trust = new TrustContext(host);
  const pluginTrust = trust.registerPlugin(plugin, ceiling);
  const entries: BridgeAuditEntry[] = [];
  const anomalies: Anomaly[] = [];
  const bridge = new SyscallBridge({
    trust,
    audit: { level, record: (entry) => entries.push(entry) },
    anomaly: new AnomalyDetector((anomaly) => anomalies.push(anomaly), { denialBurst: 3, warmupMs: 1e9 }),
  });
  return { trust, pluginTrust, bridge, entries, anomalies, gate: bridge.gateFor(pluginTrust, identity) };
}

const weather = {
  name: 'forge.weather',
  description: 'Today\'s weather for a city',
  args: object({ city: required(string({ minLength: 1, maxLength: 64 }), 'City name.') }),
  resource: 'key' as const,
  resourceOf: (args: { city: string }) => args.city,
  handler: (args: { city: string }) => ({ city: args.city, sky: 'clear' }),
};

describe('syscall bridge', () => {
  it('runs a registered host call that the manifest allows, and audits the decision', async () => {
    const { bridge, entries } = setup();
    bridge.register(weather);
    assert.deepEqual(await bridge.executeSyscall('forge.weather', { city: 'Oslo' }, identity), { city: 'Oslo', sky: 'clear' });
    assert.deepEqual(entries.map((e) => [e.action, e.resource, e.allowed]), [['forge.weather', 'Oslo', true]]);
  });

  it('refuses a call policy forbids before its handler runs, with FO_TRUST_DENIED, and audits the denial', async () => {
    const { bridge, trust, entries } = setup();
    let ran = false;
    bridge.register({ ...weather, handler: () => (ran = true) });
    trust.setPolicy({ ...trust.policy, cedar: CedarPolicies.load('forbid(principal, action == ForgeOne::Action::"forge.weather", resource) when { resource.key == "Mordor" };', trust.catalog) });
    await assert.rejects(bridge.executeSyscall('forge.weather', { city: 'Mordor' }, identity), (error: unknown) => ForgeError.is(error, 'FO_TRUST_DENIED') && /forbidden by Cedar policy/.test(error.message));
    assert.equal(ran, false);
    assert.deepEqual(entries.map((e) => e.allowed), [false]);
  });

  it('refuses invalid arguments with every problem, and unknown calls', async () => {
    const { bridge } = setup();
    bridge.register(weather);
    await assert.rejects(bridge.executeSyscall('forge.weather', { town: 1 }, identity), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_INVALID_ARGS') && /town/.test(error.message) && /city/.test(error.message));
    await assert.rejects(bridge.executeSyscall('forge.nope', {}, identity), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_UNKNOWN'));
  });

  it('refuses a second call with the same name and badly named calls', () => {
    const { bridge } = setup();
    bridge.register(weather);
    assert.throws(() => bridge.register(weather), (error: unknown) => ForgeError.is(error, 'FO_TRUST_CALL_CONFLICT'));
    assert.throws(() => bridge.register({ ...weather, name: 'forge.log' }), (error: unknown) => ForgeError.is(error, 'FO_TRUST_CALL_CONFLICT'));
    assert.throws(() => bridge.register({ ...weather, name: 'env.abort' }), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_INVALID_NAME'));
  });

  it('gates WASI calls: allows and denies, audits denials always and decisions once at the default level', () => {
    const { gate, entries } = setup('decisions');
    for (let i = 0; i < 5; i += 1) assert.equal(gate.check('wasi_snapshot_preview1.clock_time_get'), undefined);
    const denial = gate.check('wasi_snapshot_preview1.path_open', '/etc/passwd');
    assert.match(denial?.reason ?? '', /needs permissions.filesystem/);
    gate.check('wasi_snapshot_preview1.path_open', '/etc/passwd');
    assert.deepEqual(entries.map((e) => [e.action, e.allowed]), [
      ['wasi_snapshot_preview1.clock_time_get', true],
      ['wasi_snapshot_preview1.path_open', false],
      ['wasi_snapshot_preview1.path_open', false],
    ]);
  });

  it('audits every call at level all and only denials at level denials', () => {
    const all = setup('all');
    for (let i = 0; i < 3; i += 1) all.gate.check('forge.log');
    assert.equal(all.entries.length, 3);
    const denials = setup('denials');
    for (let i = 0; i < 3; i += 1) denials.gate.check('forge.log');
    denials.gate.check('forge.kv_get', 'kv:x');
    assert.deepEqual(denials.entries.map((e) => e.action), ['forge.kv_get']);
  });

  it('feeds decisions to anomaly detection', () => {
    const { gate, anomalies } = setup();
    for (let i = 0; i < 3; i += 1) gate.check('forge.kv_get', 'kv:x');
    assert.deepEqual(anomalies.map((a) => a.kind), ['denial_burst']);
  });
});

describe('the audit rule, the same on every path of the bridge', () => {
  // Per level: [denial, evaluated allow (cache miss), cached allow (hit)] -> recorded?
  const RULE: Readonly<Record<AuditLevel, readonly [boolean, boolean, boolean]>> = {
    denials: [true, false, false],
    decisions: [true, true, false],
    all: [true, true, true],
  };

  for (const level of ['denials', 'decisions', 'all'] as const) {
    const [denial, miss, hit] = RULE[level];

    it(`gate.check at level ${level}: denial ${denial}, first allow ${miss}, cached allow ${hit}`, () => {
      const { gate, entries } = setup(level);
      gate.check('forge.kv_get', 'kv:x');
      assert.equal(entries.length, denial ? 1 : 0);
      entries.length = 0;
      gate.check('wasi_snapshot_preview1.clock_time_get');
      assert.equal(entries.length, miss ? 1 : 0);
      entries.length = 0;
      gate.check('wasi_snapshot_preview1.clock_time_get');
      assert.equal(entries.length, hit ? 1 : 0);
    });

    it(`gate.refuse at level ${level}: always recorded as a denial with what was asked for`, () => {
      const { gate, entries } = setup(level);
      gate.refuse('wasi_snapshot_preview1.path_open', '/data', 'ENOTCAPABLE: the path leaves its directory', '../secret.txt');
      assert.deepEqual(
        entries.map((e) => [e.action, e.resource, e.allowed, e.reason, e.requested]),
        [['wasi_snapshot_preview1.path_open', '/data', false, 'ENOTCAPABLE: the path leaves its directory', '../secret.txt']],
      );
    });

    it(`executeSyscall at level ${level}: denial ${denial}, first allow ${miss}, cached allow ${hit}`, async () => {
      const { bridge, trust, entries } = setup(level);
      bridge.register(weather);
      trust.setPolicy({ ...trust.policy, cedar: CedarPolicies.load('forbid(principal, action == ForgeOne::Action::"forge.weather", resource) when { resource.key == "Mordor" };', trust.catalog) });
      await assert.rejects(bridge.executeSyscall('forge.weather', { city: 'Mordor' }, identity), (error: unknown) => ForgeError.is(error, 'FO_TRUST_DENIED'));
      assert.equal(entries.length, denial ? 1 : 0);
      entries.length = 0;
      await bridge.executeSyscall('forge.weather', { city: 'Oslo' }, identity);
      assert.equal(entries.length, miss ? 1 : 0);
      entries.length = 0;
      await bridge.executeSyscall('forge.weather', { city: 'Oslo' }, identity);
      assert.equal(entries.length, hit ? 1 : 0);
    });
  }

  it('records what was literally asked for beside the resource reached, only when they differ', () => {
    const { gate, entries } = setup('all');
    gate.check('forge.kv_get', 'kv:x', undefined, 'innocent');
    gate.check('forge.kv_get', 'kv:x', undefined, 'kv:x');
    assert.deepEqual(entries.map((e) => e.requested), ['innocent', undefined]);
  });

  it('counts refusals made outside policy towards a denial burst', () => {
    const { gate, anomalies } = setup();
    for (let i = 0; i < 3; i += 1) gate.refuse('wasi_snapshot_preview1.path_open', '/data', 'ENOTCAPABLE: escape', '../x');
    assert.deepEqual(anomalies.map((a) => a.kind), ['denial_burst']);
  });
});

describe('syscall bridge when the audit log fails', () => {
  it('fails closed: a call that must be audited and cannot be is refused', async () => {
    const trust = new TrustContext(host);
    const pluginTrust = trust.registerPlugin(plugin, ceiling);
    const bridge = new SyscallBridge({
      trust,
      audit: {
        level: 'all',
        record: () => {
          throw new ForgeError('FO_AUDIT_WRITE_FAILED', 'disk full');
        },
      },
    });
    const gate = bridge.gateFor(pluginTrust, identity);
    assert.match(gate.check('wasi_snapshot_preview1.clock_time_get')?.reason ?? '', /fail closed/);
    bridge.register(weather);
    await assert.rejects(bridge.executeSyscall('forge.weather', { city: 'Oslo' }, identity), (error: unknown) => ForgeError.is(error, 'FO_TRUST_DENIED') && /audit log cannot record/.test(error.message));
  });
});

describe('syscall bridge auditing into an AuditLog', () => {
  it('reads the log clock once per observed and audited call; the record and anomaly detection get that time', async () => {
    let reads = 0;
    // Far from Date.now(): a time read from any other clock would show.
    const clock = (): number => Date.UTC(2025, 0, 2, 3, 4, 5, 0) + (reads += 1) * 1000;
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, level: 'all', clock });
    const trust = new TrustContext(host);
    const anomalies: Anomaly[] = [];
    const anomaly = new AnomalyDetector((found) => anomalies.push(found), { warmupMs: 0 });
    anomaly.start(plugin.digest, 0);
    const gate = new SyscallBridge({ trust, audit: log, anomaly }).gateFor(trust.registerPlugin(plugin, ceiling), identity);
    const before = reads;
    const calls = ['wasi_snapshot_preview1.clock_time_get', 'wasi_snapshot_preview1.random_get', 'wasi_snapshot_preview1.clock_time_get', 'forge.weather'];
    for (const call of calls) gate.check(call);
    assert.equal(reads - before, calls.length);
    await log.close();
    const times = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => Date.parse((JSON.parse(line) as { ts: string }).ts));
    assert.deepEqual(times, [1, 2, 3, 4].map((n) => Date.UTC(2025, 0, 2, 3, 4, 5, 0) + (before + n) * 1000));
    // A first use of each call, at the time its record has.
    assert.deepEqual(
      anomalies.map((found) => [found.kind, found.call, found.at]),
      [0, 1, 3].map((index) => ['first_use', calls[index], times[index]]),
    );
  });
});
