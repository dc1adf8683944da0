/**
 * Load beside hostile neighbours (issue 17): one PluginRegistry with a real on-disk audit
 * log (level `all`, signed checkpoints), N well-behaved plugins kept busy by C calls in
 * flight for D milliseconds, while the hostile plugins of load-guests.ts are called over
 * and over. Shared by registry/load.test.ts (small, on every backend) and bench/load.mjs
 * (100 plugins, 1,000 calls in flight, 60 s). What is checked afterwards lives in
 * load-check.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig, toForgeError, type LogRecord } from '@forgeone/common';
import { NOW, makePackage } from '../../attestation/test-support/pki.js';
import { PluginState } from '../../lifecycle/index.js';
import { assembleWat } from '../../test-support/wat.js';
import { PluginRegistry } from '../registry.js';
import { GOOD_GUEST, HOSTILE_GUESTS, type LoadBackend } from './load-guests.js';
import { signAsTestPublisher, trustStore } from './plugins.js';

/** What one load run does. */
export interface LoadOptions {
  readonly backend: LoadBackend;
  /** Well-behaved plugins (named good-0, good-1, ...). */
  readonly goodPlugins: number;
  /** Calls kept in flight across the good plugins. */
  readonly inFlight: number;
  /** How long the good calls go on, in ms. */
  readonly durationMs: number;
  /** Load the hostile plugins and call them throughout (false: the solo baseline). Default true. */
  readonly hostile?: boolean;
  /** Pause between two calls of one hostile plugin, in ms, unless it sets its own (default 20). */
  readonly hostilePauseMs?: number;
  /**
   * runtime.fuel_per_call (default 2,000,000: a good call needs about a thousand for its
   * own instructions and its one host call; a host call costs 1,000 units, so the log
   * flooder can make the 1,001 forge.log calls that reach its rate limit's burst, and the
   * host-call flooder's calls make at most 2,000 host calls, so 2,000 audit records, each).
   */
  readonly fuelPerCall?: number;
  /** default_timeout (default `1s`). */
  readonly timeout?: string;
  /** sandbox.memory_limit (default `32MB`). */
  readonly memoryLimit?: string;
  /** Keep the registry's directory (default false: removed after the run). */
  readonly keepDirectory?: boolean;
}

/** What a hostile plugin's calls answered. */
export interface HostileOutcome {
  readonly name: string;
  /** The code its load or start was refused with, if it was. */
  readonly refusedAtLoad: string | undefined;
  /** Calls made. */
  calls: number;
  /** Calls by outcome: `ok` or the code (`FO_ABI_GUEST_ERROR/<guest code>` for guest errors). */
  readonly outcomes: Map<string, number>;
  /** Pause between its calls, in ms. */
  readonly pauseMs: number;
}

/** One good plugin's calls. */
export interface GoodOutcome {
  /** Calls answered correctly. */
  ok: number;
  /** Attempts refused before they ran because a neighbour's failure replaced the worker (retried), by code. */
  readonly retried: Map<string, number>;
  /** Calls that failed otherwise, or answered the wrong bytes, by code (`wrong answer`). */
  readonly failed: Map<string, number>;
}

/** Everything a run saw; load-check.ts reads the audit log and judges it. */
export interface LoadRun {
  readonly options: Required<Omit<LoadOptions, 'keepDirectory'>>;
  readonly directory: string;
  readonly auditPath: string;
  readonly checkpointPublicKey: string;
  /** Wall-clock time of the loaded phase, in ms. */
  readonly elapsedMs: number;
  /** Latency of every good call that succeeded, in microseconds, in completion order. */
  readonly latenciesUs: Float64Array;
  readonly good: ReadonlyMap<string, GoodOutcome>;
  readonly hostile: readonly HostileOutcome[];
  /** Package digest -> plugin name, for reading the audit log. */
  readonly digests: ReadonlyMap<string, string>;
  /** Log records of each plugin (by name) with their message, as the registry's logger got them. */
  readonly logLines: ReadonlyMap<string, Map<string, number>>;
  /** After the load: every good plugin answered one more call, and the registry listed every plugin. */
  readonly answersAfter: boolean;
  /** Removes the run's directory (unless kept). */
  cleanup(): Promise<void>;
}

/** Codes a good call may get when a neighbour's failure replaced its pool worker: the call did not run (docs/sandbox.md). */
export const COLLATERAL_CODES = new Set(['FO_SANDBOX_RESTARTED', 'FO_SANDBOX_WORKER_REPLACED']);
const INPUT = new TextEncoder().encode('sixteen bytes ok');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function configText(options: LoadRun['options'], plugins: number): string {
  return `plugin_manager:
  plugin_directory: plugins
  temp_directory: tmp
  max_plugins: ${plugins + 16}
  default_timeout: ${options.timeout}
  sandbox:
    memory_limit: ${options.memoryLimit}
  security:
    namespace_isolation: ${options.backend === 'process'}
  runtime:
    backend: ${options.backend}
    fuel_per_call: ${options.fuelPerCall}
    restart: always
    restart_backoff: 5ms
    restart_backoff_max: 5ms
    max_restarts: 1000
    quarantine_after: 1000
    crash_window: 1s
  audit:
    level: all
    path: audit.log
    checkpoint_key: checkpoint-key.pem
    checkpoint_every: 10000
`;
}

/** The code of a failed call: `FO_ABI_GUEST_ERROR/<guest code>` for a guest's error payload. */
export function outcomeCode(error: unknown): string {
  const forge = toForgeError(error);
  const guest = forge.details?.['guestCode'];
  return forge.code === 'FO_ABI_GUEST_ERROR' && typeof guest === 'string' ? `${forge.code}/${guest}` : forge.code;
}

const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

async function signedLoadPlugin(name: string, wat: string, toml = ''): Promise<Buffer> {
  const wasm = Buffer.from(await assembleWat(wat, { features: { threads: true } }));
  return signAsTestPublisher(makePackage({ toml: `[plugin]\nname = "${name}"\nversion = "1.0.0"\n\n${toml}`, wasm }));
}

/** Calls `name` until `stop`, waiting while its restart policy brings it back; one call at a time. */
async function driveHostile(registry: PluginRegistry, outcome: HostileOutcome, stop: { now: boolean }): Promise<void> {
  while (!stop.now) {
    const state = registry.get(outcome.name).state;
    if (state !== PluginState.Running) {
      if (state === PluginState.Quarantined) return;
      await sleep(2);
      continue;
    }
    outcome.calls += 1;
    try {
      await registry.call(outcome.name, 'work', INPUT);
      bump(outcome.outcomes, 'ok');
    } catch (error) {
      bump(outcome.outcomes, outcomeCode(error));
    }
    await sleep(outcome.pauseMs);
  }
}

/** Keeps one call in flight across the good plugins, starting at plugin `first`, until `stop`. */
async function driveGood(registry: PluginRegistry, names: readonly string[], first: number, good: Map<string, GoodOutcome>, latencies: number[], stop: { now: boolean }): Promise<void> {
  const expected = Buffer.from(INPUT);
  for (let i = first; !stop.now; i += 1) {
    const name = names[i % names.length] ?? '';
    const outcome = good.get(name);
    if (outcome === undefined) throw new Error(`no good plugin ${name}`);
    const started = performance.now();
    // A call refused before it ran (its worker was replaced under it) is tried again, as
    // docs/sandbox.md tells callers to; the latency counts from the first attempt.
    for (;;) {
      try {
        const output = await registry.call(name, 'work', INPUT);
        if (expected.equals(output)) {
          outcome.ok += 1;
          latencies.push((performance.now() - started) * 1000);
        } else bump(outcome.failed, 'wrong answer');
        break;
      } catch (error) {
        const code = outcomeCode(error);
        if (!COLLATERAL_CODES.has(code)) {
          bump(outcome.failed, code);
          break;
        }
        bump(outcome.retried, code);
        if (stop.now) break;
        // Its instance is being re-created (then its init and start run again): back off first.
        do await sleep(1);
        while (registry.get(name).state !== PluginState.Running && !stop.now);
      }
    }
    // On the inline backend a call settles in microtasks only: without this the drivers
    // would starve the timers (the end of the run among them).
    await new Promise(setImmediate);
  }
}

/**
 * Runs the load: creates the registry, loads and starts the plugins, drives the calls for
 * `durationMs`, checks that the registry still answers, and closes it (flushing the audit log).
 */
export async function runLoad(input: LoadOptions): Promise<LoadRun> {
  const options = { hostile: true, hostilePauseMs: 20, fuelPerCall: 2_000_000, timeout: '2s', memoryLimit: '32MB', ...input };
  const directory = await mkdtemp(join(tmpdir(), `forge-load-${options.backend}-`));
  const logLines = new Map<string, Map<string, number>>();
  const logger = createLogger((record: LogRecord) => {
    const plugin = record.fields['plugin'];
    const name = typeof plugin === 'object' && plugin !== null && 'id' in plugin ? String(plugin.id) : undefined;
    if (name === undefined) return;
    const lines = logLines.get(name) ?? new Map<string, number>();
    logLines.set(name, lines);
    bump(lines, record.message);
  }, 'info');
  const hostileGuests = options.hostile ? HOSTILE_GUESTS : [];
  const config = parseConfig(configText(options, options.goodPlugins + hostileGuests.length), { name: 'load.yaml', baseDir: directory });
  const registry = await PluginRegistry.create(config, { configDir: directory, logger, attestation: { verifySignatures: true, trustStore, now: NOW } });
  const names = Array.from({ length: options.goodPlugins }, (_, i) => `good-${i}`);
  const good = new Map(names.map((name) => [name, { ok: 0, retried: new Map(), failed: new Map() } satisfies GoodOutcome]));
  const hostile: HostileOutcome[] = [];
  const digests = new Map<string, string>();
  let answersAfter = false;
  const latencies: number[] = [];
  let elapsedMs = 0;
  try {
    const goodPackage = (name: string) => signedLoadPlugin(name, GOOD_GUEST);
    for (const name of names) await registry.startPlugin(await registry.loadPlugin(await goodPackage(name)));
    for (const guest of hostileGuests) {
      let refusedAtLoad: string | undefined;
      try {
        await registry.startPlugin(await registry.loadPlugin(await signedLoadPlugin(guest.name, guest.wat, guest.toml)));
      } catch (error) {
        refusedAtLoad = outcomeCode(error);
      }
      hostile.push({ name: guest.name, refusedAtLoad, calls: 0, outcomes: new Map(), pauseMs: guest.pauseMs ?? options.hostilePauseMs });
    }
    for (const info of registry.list()) digests.set(info.digest, info.name);
    const stop = { now: false };
    const started = performance.now();
    const drivers = [
      ...hostile.filter((h) => h.refusedAtLoad === undefined).map((h) => driveHostile(registry, h, stop)),
      ...Array.from({ length: options.inFlight }, (_, i) => driveGood(registry, names, i, good, latencies, stop)),
    ];
    await sleep(options.durationMs);
    stop.now = true;
    await Promise.all(drivers);
    elapsedMs = performance.now() - started;
    // The registry still answers: one more call of every good plugin (counted: it is audited too).
    const answers = await Promise.all(names.map((name) => registry.call(name, 'work', INPUT).then((out) => Buffer.from(INPUT).equals(out), () => false)));
    answers.forEach((answered, i) => {
      const outcome = good.get(names[i] ?? '');
      if (answered && outcome !== undefined) outcome.ok += 1;
    });
    answersAfter = answers.every(Boolean) && names.every((name) => registry.list().some((info) => info.name === name));
  } finally {
    await registry.close();
  }
  return {
    options,
    directory,
    auditPath: join(directory, 'audit.log'),
    checkpointPublicKey: join(directory, 'checkpoint-key.pub.pem'),
    elapsedMs,
    latenciesUs: Float64Array.from(latencies),
    good,
    hostile,
    digests,
    logLines,
    answersAfter,
    cleanup: () => (input.keepDirectory === true ? Promise.resolve() : rm(directory, { recursive: true, force: true })),
  };
}
