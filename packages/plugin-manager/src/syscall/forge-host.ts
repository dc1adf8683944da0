/**
 * One entry point for the forge.* host functions of one plugin: it normalises the
 * options, rejects impossible ones all at once, and returns the definitions for a
 * {@link HostFunctionRegistry}.
 *
 * Every function is always defined, so a plugin that imports one always links; a
 * function whose backing the host did not configure (no key-value directory, no I/O
 * bridge, no event sink) answers FO_SYSCALL_NOT_CONFIGURED. Which functions a plugin
 * may call at all is policy's business: the registry's binding asks the gate before
 * any handler runs.
 *
 * Defaults, each safe on its own: no configuration values, no key-value store, no
 * network (no bridge), no volumes, no explicitly granted private hosts, no event
 * listeners, the system clocks, the limits of {@link DEFAULT_HOST_CALL_LIMITS}.
 */
import { ForgeError, type HostCallGate } from '@forgeone/common';
import { HostFunctionRegistry, type HostCallContext, type HostFunctionDefinition } from '../abi/index.js';
import { SYSTEM_CLOCK, monotonicMs, type HostClock } from './clock.js';
import { configGetHostFunction, type PluginConfig } from './config-get.js';
import { emitEventHostFunction, type EventSink } from './events.js';
import { fileReadHostFunction, fileWriteHostFunction } from './file-calls.js';
import { explicitHosts, httpRequestHostFunction } from './http-request.js';
import { kvHostFunctions } from './kv-calls.js';
import { KvStore, type KvUsage } from './kv-store.js';
import { collectHostCallLimits, invalidOptions, type HostCallLimits, type HostCallLimitsInput, type RateLimitedCall } from './limits.js';
import { rateLimitedLog } from './log.js';
import { TokenBucket } from './rate-limit.js';
import type { SyncBridge } from './sync-bridge.js';
import { randomGetHostFunction, timeNowHostFunction } from './time-random.js';
import { Volumes, type VolumeMapping } from './volumes.js';

/** Every forge.* function this module defines, without the `forge.` prefix. */
export const FORGE_HOST_FUNCTION_NAMES = [
  'log',
  'config_get',
  'kv_get',
  'kv_set',
  'kv_delete',
  'kv_list',
  'http_request',
  'file_read',
  'file_write',
  'emit_event',
  'time_now',
  'random_get',
] as const;

const KV_NAMES: readonly string[] = ['kv_get', 'kv_set', 'kv_delete', 'kv_list'];

/** Options for {@link createForgeHostFunctions}. */
export interface ForgeHostOptions {
  /** Names the plugin in events and logs, e.g. `acme/weather@2.0.0`. */
  readonly plugin: string;
  /**
   * The plugin's gate: the same one its registry binding gets. forge.http_request asks
   * it again for every redirect hop (the binding asks once, for the first).
   */
  readonly gate: HostCallGate;
  /** Values forge.config_get returns (copied; default none). */
  readonly config?: PluginConfig;
  /**
   * Directory of the plugin's key-value store, `<plugin_directory>/<plugin name>/`;
   * created 0700 on first use. Absent: kv_* answer FO_SYSCALL_NOT_CONFIGURED.
   */
  readonly kvDirectory?: string;
  /** The thread's I/O bridge (`createIoBridge`); shared, not closed here. Absent: no HTTP. */
  readonly ioBridge?: Pick<SyncBridge, 'call'>;
  /**
   * Hosts the operator granted by exact name or IP (`db.internal`, `127.0.0.1:8080`,
   * `[::1]`), usually the non-wildcard entries of the plugin's grant. Only these may
   * reach loopback, private, link-local and other non-public addresses; the gate must
   * still allow them.
   */
  readonly explicitHosts?: readonly string[];
  /** Directories file_read and file_write may touch (opened now, closed by close()). */
  readonly volumes?: readonly VolumeMapping[];
  /** The host's event listeners. Absent: emit_event answers FO_SYSCALL_NOT_CONFIGURED. */
  readonly events?: EventSink;
  /** Time source (default {@link SYSTEM_CLOCK}). */
  readonly clock?: HostClock;
  /** Limit overrides (defaults {@link DEFAULT_HOST_CALL_LIMITS}). */
  readonly limits?: HostCallLimitsInput;
  /**
   * Define only these names (without `forge.`; those the plugin's module imports).
   * Default: every name. The options are checked in full either way; a host running
   * thousands of idle plugins saves each one the closures of the functions it cannot call.
   */
  readonly only?: ReadonlySet<string>;
}

/** The host functions of one plugin. */
export interface ForgeHostFunctions {
  /** One definition per name in {@link FORGE_HOST_FUNCTION_NAMES} (in {@link ForgeHostOptions.only} when given). */
  readonly definitions: readonly HostFunctionDefinition[];
  /** The limits in force. */
  readonly limits: HostCallLimits;
  /** A new registry holding every definition, for `instantiateAbi({ hostFunctions })`. */
  registry(): HostFunctionRegistry;
  /** What the key-value store holds; undefined when it has not been opened. */
  kvUsage(): KvUsage | undefined;
  /**
   * Closes the key-value store and the volume directories. Later calls answer
   * FO_SYSCALL_NOT_CONFIGURED. The I/O bridge is the caller's to close. Idempotent.
   */
  close(): void;
}

/**
 * Creates the forge.* host functions of one plugin. Nothing is opened but the volume
 * directories; the key-value store opens on first use and the I/O worker starts on
 * the first request.
 *
 * @throws ForgeError FO_SYSCALL_INVALID_OPTIONS (every problem listed in
 *   details.problems), FO_SYSCALL_VOLUME_UNAVAILABLE
 */
export function createForgeHostFunctions(options: ForgeHostOptions): ForgeHostFunctions {
  const problems: string[] = [];
  if (typeof options.plugin !== 'string' || options.plugin.length === 0) problems.push('plugin: expected a non-empty name');
  if (typeof (options.gate as Partial<HostCallGate> | undefined)?.check !== 'function') problems.push('gate: expected an object with a check method');
  const limits = collectHostCallLimits(options.limits ?? {}, problems);
  const explicit = explicitHosts(options.explicitHosts ?? [], problems);
  const configGet = configGetHostFunction(options.config, problems);
  if (problems.length > 0) throw invalidOptions(problems);
  const volumes = Volumes.open(options.volumes ?? [], problems);
  if (problems.length > 0) throw invalidOptions(problems);

  const clock = options.clock ?? SYSTEM_CLOCK;
  let closed = false;
  let store: KvStore | undefined;
  const live = (call: string): void => {
    if (closed) throw new ForgeError('FO_SYSCALL_NOT_CONFIGURED', `${call}: the plugin's host functions are closed`, { details: { call } });
  };
  const kvDirectory = options.kvDirectory;
  const openStore = (): KvStore => {
    if (kvDirectory === undefined) throw new ForgeError('FO_SYSCALL_NOT_CONFIGURED', 'this host has no key-value store for the plugin', { details: { call: 'forge.kv' } });
    store ??= KvStore.open(kvDirectory, limits.kv);
    return store;
  };
  const openVolumes = (): Volumes => volumes;
  const bucket = (call: RateLimitedCall): TokenBucket | undefined => {
    const rate = limits.rates[call];
    return rate === 'off' ? undefined : new TokenBucket(rate, () => monotonicMs(clock));
  };

  const only = options.only;
  const wanted = (name: string): boolean => only === undefined || only.has(name);
  // Built only when wanted: each definition holds closures (and rate buckets) of its own.
  const factories: readonly [string, () => HostFunctionDefinition][] = [
    ['log', () => rateLimitedLog(bucket('log'), limits.rates.log)],
    ['config_get', () => configGet],
    ['http_request', () => httpRequestHostFunction({ gate: options.gate, bridge: options.ioBridge, explicit, limits: limits.http, clock })],
    ['file_read', () => fileReadHostFunction(openVolumes, limits.file)],
    ['file_write', () => fileWriteHostFunction(openVolumes, limits.file)],
    ['emit_event', () => emitEventHostFunction({ plugin: options.plugin, sink: options.events, limits, bucket: bucket('emit_event'), wallMs: () => Number(clock.wallNs() / 1_000_000n) })],
    ['time_now', () => timeNowHostFunction(clock)],
    ['random_get', () => randomGetHostFunction(limits.maxRandomBytes)],
  ];
  const chosen = factories.filter(([name]) => wanted(name)).map(([, make]) => make());
  const kv = KV_NAMES.some(wanted) ? kvHostFunctions(openStore, limits.kv).filter((definition) => wanted(definition.name)) : [];
  // In FORGE_HOST_FUNCTION_NAMES order, as before.
  const byName = new Map([...chosen, ...kv].map((definition) => [definition.name, definition]));
  const definitions = FORGE_HOST_FUNCTION_NAMES.flatMap((name) => byName.get(name) ?? []).map(
    (definition): HostFunctionDefinition =>
      Object.freeze({
        ...definition,
        handler: (request: Uint8Array, context: HostCallContext): Uint8Array => {
          live(context.call);
          return definition.handler(request, context);
        },
      }),
  );
  Object.freeze(definitions);

  return {
    definitions,
    limits,
    registry(): HostFunctionRegistry {
      const registry = new HostFunctionRegistry();
      for (const definition of definitions) registry.define(definition);
      return registry;
    },
    kvUsage: () => store?.usage(),
    close(): void {
      if (closed) return;
      closed = true;
      store?.close();
      volumes.close();
    },
  };
}
