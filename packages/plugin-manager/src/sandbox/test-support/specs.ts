/**
 * Plugin specs for backend tests and benchmarks, and a {@link BackendHost} that records
 * everything a backend reports.
 */
import { ForgeError, type LogRecord, type PluginIdentity } from '@forgeone/common';
import type { Anomaly, AuditLevel, CallSpec, Ceiling } from '@forgeone/microkernel';
import type { EntryPoints } from '../../abi/index.js';
import { CompileCache, prepareModule, type PrepareOptions } from '../../runtime/index.js';
import type { HostCallLimitsInput, PluginEvent } from '../../syscall/index.js';
import { assembleWat } from '../../test-support/wat.js';
import type { BackendAuditEntry } from '../plugin-gate.js';
import type { BackendHost, CallerFuel, PluginSpec, PolicySpec } from '../spec.js';

/** What a test sets; everything else has a safe default. */
export interface SpecOptions {
  /** Default: `plugin-<n>`, unique per process. */
  readonly id?: string;
  /** The plugin's signed permissions (its ceiling and import allowance). Default: none. */
  readonly permissions?: Partial<Ceiling>;
  /** Default: restricted network, no grants, no Cedar. */
  readonly policy?: PolicySpec;
  /** Fuel per call, in units. Default 50,000,000. */
  readonly fuel?: bigint;
  /** Wall-clock limit per call, in ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** Linear memory cap, in bytes. Default 64 MiB. */
  readonly maxMemoryBytes?: number;
  readonly preopens?: PluginSpec['wasi']['preopens'];
  readonly registered?: readonly (string | CallSpec)[];
  readonly entryPoints?: EntryPoints;
  /** Default `decisions`. */
  readonly auditLevel?: AuditLevel;
  /** Allowed records one call writes before the rest are folded (PluginSpec.auditMaxCallRecords). Default: none folded. */
  readonly auditMaxCallRecords?: number;
  readonly kvDirectory?: string;
  /** Plugin name in the identity (grants are keyed by it). Default `tester`. */
  readonly name?: string;
  /** Limits of its host calls (rates of forge.log, which WASI stdout and stderr share). Default: the defaults. */
  readonly hostCallLimits?: HostCallLimitsInput;
}

/** The default operator policy of test specs: restricted network, no grants, no Cedar. */
export const TEST_POLICY: PolicySpec = Object.freeze({ networkAccess: 'restricted', grants: {} });

const cache = new CompileCache();
const bytesByText = new Map<string, Promise<Uint8Array>>();
let next = 0;

/** A digest for a test plugin, distinct per id. */
function digestFor(id: string): string {
  let hex = '';
  for (const char of id) hex += char.charCodeAt(0).toString(16).padStart(2, '0');
  return `sha256:${hex.slice(0, 64).padEnd(64, '0')}`;
}

/**
 * A spec for the guest in `wat` (assembled once per text), prepared as the registry
 * would (fuel injected, memory capped), with `permissions` as its ceiling. Every WASI
 * and forge import passes the import check, so the backend's gate is what refuses.
 */
export async function pluginSpec(wat: string, options: SpecOptions = {}): Promise<PluginSpec> {
  let bytes = bytesByText.get(wat);
  if (bytes === undefined) {
    bytes = assembleWat(wat);
    bytesByText.set(wat, bytes);
  }
  const permissions: Ceiling = { filesystem: [], network: [], allowed_hosts: [], syscalls: [], volumes: [], ...options.permissions };
  // The import check is the runtime's business (tested there); these guests import
  // more than some tests grant, so that the backend's gate is what refuses.
  const importable: PrepareOptions['permissions'] = { filesystem: ['read', 'write'], network: ['connect'], allowed_hosts: [], syscalls: ['forge.*'], volumes: [] };
  const prepare: PrepareOptions = { permissions: importable, maxMemoryBytes: options.maxMemoryBytes ?? 64 * 1024 * 1024 };
  const prepared = await prepareModule(await bytes, prepare, cache);
  next += 1;
  const id = options.id ?? `plugin-${next}`;
  const identity: PluginIdentity = { publisher: 'acme', name: options.name ?? 'tester', version: '1.0.0', digest: digestFor(id), attested: true };
  return {
    id,
    identity,
    host: 'sandbox-test-host',
    module: prepared.module,
    moduleBytes: prepared.bytes,
    fuelExport: prepared.fuelExport,
    usesWasi: prepared.info.imports.some((entry) => entry.module === 'wasi_snapshot_preview1'),
    entryPoints: options.entryPoints ?? { init: 'init', start: 'start', stop: 'stop' },
    fuelPerCall: options.fuel ?? 50_000_000n,
    timeoutMs: options.timeoutMs ?? 10_000,
    ceiling: permissions,
    policy: options.policy ?? TEST_POLICY,
    auditLevel: options.auditLevel ?? 'decisions',
    ...(options.auditMaxCallRecords === undefined ? {} : { auditMaxCallRecords: options.auditMaxCallRecords }),
    wasi: { args: ['tester'], env: {}, preopens: options.preopens ?? [], maxOpenFiles: 64 },
    hostCalls: {
      config: {},
      ...(options.kvDirectory === undefined ? {} : { kvDirectory: options.kvDirectory }),
      explicitHosts: [],
      volumes: [],
      registered: options.registered ?? [],
      ...(options.hostCallLimits === undefined ? {} : { limits: options.hostCallLimits }),
    },
  };
}

/** One registered host call the recording host served. */
export interface ServedCall {
  readonly plugin: string;
  readonly name: string;
  readonly request: string;
}

/** A {@link BackendHost} that keeps everything it is given. */
export class RecordingHost implements BackendHost {
  readonly audits: BackendAuditEntry[] = [];
  readonly logs: { plugin: string; record: LogRecord }[] = [];
  readonly events: { plugin: string; event: PluginEvent }[] = [];
  readonly anomalies: { plugin: string; anomaly: Anomaly }[] = [];
  readonly served: ServedCall[] = [];
  readonly resources: ServedCall[] = [];
  /** When set, audit() throws this (an audit log that stopped). */
  auditFailure: Error | undefined;
  /** Answers registered calls, with the calling plugin's fuel when it is metered; default: `{"echo":<request>}` as JSON. */
  answer: (plugin: string, name: string, request: string, fuel: CallerFuel | undefined) => string = (_plugin, _name, request) => JSON.stringify({ echo: request });
  /** Names the resource of a registered call's request; default: its `city` field. */
  resourceOf: (plugin: string, name: string, request: string) => string | undefined = (_plugin, _name, request) => {
    const parsed = JSON.parse(request) as { city?: unknown };
    if (typeof parsed.city !== 'string') throw new ForgeError('FO_SYSCALL_INVALID_ARGS', 'expected a city');
    return parsed.city;
  };

  audit(entry: BackendAuditEntry): void {
    if (this.auditFailure !== undefined) throw this.auditFailure;
    this.audits.push(entry);
  }

  log(plugin: string, record: LogRecord): void {
    this.logs.push({ plugin, record });
  }

  event(plugin: string, event: PluginEvent): void {
    this.events.push({ plugin, event });
  }

  anomaly(plugin: string, anomaly: Anomaly): void {
    this.anomalies.push({ plugin, anomaly });
  }

  hostCall(plugin: string, name: string, request: Uint8Array, fuel?: CallerFuel): Uint8Array {
    const text = new TextDecoder().decode(request);
    this.served.push({ plugin, name, request: text });
    return new TextEncoder().encode(this.answer(plugin, name, text, fuel));
  }

  hostCallResource(plugin: string, name: string, request: Uint8Array): string | undefined {
    const text = new TextDecoder().decode(request);
    this.resources.push({ plugin, name, request: text });
    return this.resourceOf(plugin, name, text);
  }

  /** The audit entries of `plugin` as [action, resource, allowed]. */
  auditOf(plugin: string): [string, string | undefined, boolean][] {
    return this.audits.filter((entry) => entry.plugin === plugin).map((entry) => [entry.action, entry.resource, entry.allowed]);
  }

  /** The messages `plugin` logged with `source`. */
  messagesOf(plugin: string, source: string): string[] {
    return this.logs.filter((entry) => entry.plugin === plugin && entry.record.fields['source'] === source).map((entry) => entry.record.message);
  }
}
