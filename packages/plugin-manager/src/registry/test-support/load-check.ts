/**
 * What a load run (load.ts) must show, read from what it left: the audit chain verifies;
 * every good call that ran left its audit record and no other good call failed; each
 * hostile plugin was stopped by the limit meant for it, with that limit's code; the host
 * kept answering. {@link loadProblems} lists every breach at once, so the test and the
 * benchmark report the same findings.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadCheckpointVerifyKey, verifyAuditLog, type AuditVerification } from '@forgeone/microkernel';
import { HOST_CALL_FUEL } from '../../abi/index.js';
import { HOSTILE_GUESTS } from './load-guests.js';
import { COLLATERAL_CODES, type LoadRun } from './load.js';

/** The audit log of a run, counted. */
export interface AuditCount {
  readonly verification: AuditVerification;
  /**
   * Event records by plugin name, then by `<action> <decision>` (`forge.log deny`); the
   * allowed records a call folded (`audit.folded`, audit.max_call_records) count under
   * their own action, those its summary lists only as `other` under `audit.folded other`.
   */
  readonly byPlugin: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Entries a sandbox reported beyond what the host takes per job, by plugin (the process backend's bound; one record says how many). */
  readonly dropped: ReadonlyMap<string, number>;
  /** Records of every type. */
  readonly records: number;
}

/** Codes of a call that crashed its plugin's instance (lifecycle/supervisor.ts). */
const CRASH_CODES = new Set(['FO_SANDBOX_CPU_LIMIT', 'FO_SANDBOX_TIMEOUT', 'FO_ABI_GUEST_TRAP', 'FO_SANDBOX_WORKER_FAILED']);
const DROPPED = /reported (\d+) audit entries beyond/;

/** Verifies the run's audit log with its checkpoint key and counts its event records by plugin and action. */
export async function countAudit(run: LoadRun): Promise<AuditCount> {
  const verification = await verifyAuditLog({ path: run.auditPath, keys: [await loadCheckpointVerifyKey(run.checkpointPublicKey)] });
  const byPlugin = new Map<string, Map<string, number>>();
  const dropped = new Map<string, number>();
  let records = 0;
  const name = basename(run.auditPath);
  const files = (await readdir(dirname(run.auditPath))).filter((file) => file === name || new RegExp(`^${name.replace('.', '\\.')}\\.\\d+$`).test(file));
  for (const file of files) {
    for await (const line of createInterface({ input: createReadStream(join(dirname(run.auditPath), file)), crlfDelay: Infinity })) {
      if (line === '') continue;
      records += 1;
      const record = JSON.parse(line) as { type?: string; plugin?: string; action?: string; decision?: string; reason?: string; data?: Record<string, unknown> };
      if (record.type !== 'event' || record.plugin === undefined || record.action === undefined) continue;
      const plugin = run.digests.get(record.plugin) ?? record.plugin;
      const actions = byPlugin.get(plugin) ?? byPlugin.set(plugin, new Map()).get(plugin) ?? new Map<string, number>();
      const key = `${record.action} ${record.decision ?? ''}`;
      actions.set(key, (actions.get(key) ?? 0) + 1);
      if (record.action === 'audit.folded') countFolded(actions, record.data ?? {});
      const count = record.action === 'sandbox.audit_dropped' ? DROPPED.exec(record.reason ?? '')?.[1] : undefined;
      if (count !== undefined) dropped.set(plugin, (dropped.get(plugin) ?? 0) + Number(count));
    }
  }
  return { verification, byPlugin, dropped, records };
}

/** Adds the allowed records an `audit.folded` summary counts to its plugin's actions. */
function countFolded(actions: Map<string, number>, data: Record<string, unknown>): void {
  const add = (key: string, n: number): void => void actions.set(key, (actions.get(key) ?? 0) + n);
  for (const [action, , count] of JSON.parse(typeof data['counts'] === 'string' ? data['counts'] : '[]') as [string, string | null, number][]) add(`${action} allow`, count);
  add('audit.folded other', Number(data['other'] ?? 0));
}

const list = (map: ReadonlyMap<string, number>) => [...map].map(([code, n]) => `${code} x${n}`).join(', ');

/** Every way the run broke what issue 17 asks of it; empty when it held. */
export function loadProblems(run: LoadRun, audit: AuditCount): string[] {
  const problems: string[] = [];
  const backend = run.options.backend;
  const records = (plugin: string, action: string) => audit.byPlugin.get(plugin)?.get(action) ?? 0;
  if (!audit.verification.ok) problems.push(`the audit chain does not verify: ${audit.verification.problem?.code ?? ''} ${audit.verification.problem?.message ?? ''}`);
  if (!run.answersAfter) problems.push('after the load, the registry did not answer every good plugin or did not list it');
  for (const [name, outcome] of run.good) {
    if (outcome.ok < 2) problems.push(`${name}: answered ${outcome.ok} calls: the load did not reach it`);
    if (outcome.failed.size > 0) problems.push(`${name}: calls failed: ${list(outcome.failed)}`);
    // Only the pool shares a thread between plugins: elsewhere a neighbour cannot replace what a good plugin runs in.
    if (outcome.retried.size > 0 && backend !== 'pool') problems.push(`${name}: calls refused because a neighbour's failure replaced its ${backend} instance: ${list(outcome.retried)}`);
    // Each good call that ran made one forge.time_now: one record each at level all, none lost.
    if (records(name, 'forge.time_now allow') !== outcome.ok) problems.push(`${name}: ${outcome.ok} calls answered but ${records(name, 'forge.time_now allow')} forge.time_now audit records`);
    if (audit.dropped.has(name)) problems.push(`${name}: ${audit.dropped.get(name)} audit entries dropped`);
  }
  for (const outcome of run.hostile) {
    const guest = HOSTILE_GUESTS.find((g) => g.name === outcome.name);
    if (guest === undefined) continue;
    const expected = guest.expected[backend];
    if (expected.refusedAtLoad === true) {
      if (outcome.refusedAtLoad !== expected.code) problems.push(`${outcome.name}: expected its load to be refused with ${expected.code}, found ${outcome.refusedAtLoad ?? 'a plugin that started'}`);
      continue;
    }
    if (outcome.refusedAtLoad !== undefined) {
      problems.push(`${outcome.name}: its load was refused with ${outcome.refusedAtLoad}`);
      continue;
    }
    const stopped = (outcome.outcomes.get(expected.code) ?? 0) + (expected.or === undefined ? 0 : (outcome.outcomes.get(expected.or) ?? 0));
    const others = [...outcome.outcomes].filter(([code]) => code !== expected.code && code !== expected.or && !(backend === 'pool' && COLLATERAL_CODES.has(code)));
    if (stopped === 0) problems.push(`${outcome.name}: no call was stopped with ${expected.code} (${outcome.calls} calls: ${list(outcome.outcomes)})`);
    if (others.length > 0) problems.push(`${outcome.name}: calls ended otherwise than with ${expected.code}: ${list(new Map(others))}`);
  }
  // The flooders' host calls were audited too: forge.log's refusals and deliveries, every time_now.
  const log = run.hostile.find((h) => h.name === 'hostile-log');
  if (log !== undefined && log.refusedAtLoad === undefined) {
    const delivered = run.logLines.get(log.name)?.get('flood') ?? 0;
    const refused = log.outcomes.get('FO_ABI_GUEST_ERROR/FO_SYSCALL_RATE_LIMITED') ?? 0;
    // Each forge.log call passed the gate (an allow) and each refused one is also audited as the rate limit's denial.
    if (records(log.name, 'forge.log allow') !== delivered + refused || records(log.name, 'forge.log deny') !== refused) {
      problems.push(`hostile-log: ${delivered} records logged and ${refused} calls refused, but ${records(log.name, 'forge.log allow')} forge.log allows and ${records(log.name, 'forge.log deny')} denials audited`);
    }
  }
  const flood = run.hostile.find((h) => h.name === 'hostile-syscalls');
  if (flood !== undefined && flood.refusedAtLoad === undefined) {
    // A call killed at its timeout loses the entries its pool worker or sandbox had not handed over yet (docs/sandbox.md).
    const finished = flood.outcomes.get('FO_SANDBOX_CPU_LIMIT') ?? 0;
    const seen = records(flood.name, 'forge.time_now allow') + (audit.dropped.get(flood.name) ?? 0);
    if (seen < finished) problems.push(`hostile-syscalls: ${finished} calls ran out of fuel, each after host calls, but only ${seen} forge.time_now audit records (and drops)`);
    // Every host call pays HOST_CALL_FUEL (docs/runtime.md): no call of the flooder may make more than fuel_per_call / HOST_CALL_FUEL.
    const calls = [...flood.outcomes.values()].reduce((n, count) => n + count, 0);
    const most = calls * Math.floor(run.options.fuelPerCall / Number(HOST_CALL_FUEL));
    const made = records(flood.name, 'forge.time_now allow');
    if (made > most) problems.push(`hostile-syscalls: ${made} forge.time_now audit records for ${calls} calls; at ${HOST_CALL_FUEL} units of fuel each, at most ${most} can be paid for`);
  }
  // A call that crashed its instance (fuel, time) failed the plugin: one lifecycle record each.
  for (const outcome of run.hostile) {
    const crashes = [...outcome.outcomes].filter(([code]) => CRASH_CODES.has(code)).reduce((n, [, count]) => n + count, 0);
    if (records(outcome.name, 'plugin.lifecycle.failed deny') !== crashes) problems.push(`${outcome.name}: ${crashes} calls crashed it, but ${records(outcome.name, 'plugin.lifecycle.failed deny')} plugin.lifecycle.failed audit records`);
  }
  for (const name of ['hostile-spin', 'hostile-memory', 'hostile-table']) {
    const hostCalls = [...(audit.byPlugin.get(name) ?? new Map<string, number>())].filter(([action]) => action.startsWith('forge.') || action.startsWith('wasi_'));
    if (hostCalls.length > 0) problems.push(`${name}: makes no host call, yet the audit log holds ${list(new Map(hostCalls))}`);
  }
  return problems;
}

/** The `p`th percentile (0-100) of `values`, in their unit; NaN for none. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}
