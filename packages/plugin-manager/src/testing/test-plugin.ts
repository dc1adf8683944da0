/**
 * `testPlugin`: a real plugin (a directory with plugin.toml and its module, a bare .wasm,
 * or a .forgepkg) loaded into a PluginRegistry of its own, on a fresh temporary
 * directory, under the policy the test chooses, with every host call the plugin makes
 * read back from the registry's real audit log (level `all`), decision and reason as the
 * bridge recorded them.
 */
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseConfig } from '@forgeone/common';
import { AuditLog, type AuditEventNotice } from '@forgeone/microkernel';
import type { TrustStore } from '../attestation/index.js';
import { packDirectory, readPackage } from '../loader/index.js';
import { PluginState } from '../lifecycle/index.js';
import { PluginRegistry } from '../registry/index.js';

/** How to load the plugin. */
export interface TestPluginOptions {
  /** Cedar policy text (docs/policy.md), applied in `cedarMode` (default forbid-only). */
  readonly policy?: string;
  /** `require-permit`: a call must also be permitted by `policy`. Default `forbid-only`. */
  readonly cedarMode?: 'forbid-only' | 'require-permit';
  /** The operator's grant for this plugin, as `policy.grants.<name>` in plugin-manager.yaml (keys as in the file). */
  readonly grants?: Readonly<Record<string, unknown>>;
  /**
   * More plugin_manager configuration (keys as in the file), each top-level key replacing
   * the default's (runtime: inline backend; security: namespace_isolation false); audit
   * and policy are set from the other options.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Verify signatures against this trust store; default: signatures are not required. */
  readonly trustStore?: TrustStore;
  /** plugin.toml text for a bare .wasm (default: the file's base name, version 0.0.0, no permissions). */
  readonly manifest?: string;
  /** Run init and start before returning (default true). */
  readonly start?: boolean;
  /**
   * Where the plugin runs (default `inline`: on the test's thread): `pool`, a worker thread;
   * `process`, a confined sandbox process (Linux with bubblewrap; namespace_isolation on),
   * so a test sees the plugin as the daemon would run it. The trace is the same on each:
   * the host's audit log writes it.
   */
  readonly backend?: 'inline' | 'pool' | 'process';
}

/** One host call the plugin made, as the audit log recorded it. */
export interface HostCallTrace {
  /** `forge.kv_get`, `wasi_snapshot_preview1.fd_write`, ... */
  readonly call: string;
  /** What it touched, in the form policy matched it (a key, a path, a host). */
  readonly resource?: string;
  readonly decision: 'allow' | 'deny';
  /** Why: the policy step that decided, or the denial's reason. */
  readonly reason?: string;
  /** The audit record's sequence number. */
  readonly seq: number;
}

/** A loaded plugin under test. */
export interface TestedPlugin {
  /** The registry id (the plugin's name). */
  readonly id: string;
  /** The registry it runs in, for anything the handle does not cover. */
  readonly registry: PluginRegistry;
  /** Its lifecycle state, as the registry holds it (Unloaded once {@link unload} returned). */
  readonly state: PluginState;
  /** Every host call since load (or the last {@link clearTrace}), in order. */
  readonly trace: readonly HostCallTrace[];
  /** Calls an export with `input` (text is sent as UTF-8). @throws ForgeError as PluginRegistry.call */
  call(fn: string, input?: Uint8Array | string): Promise<Uint8Array>;
  /** {@link call} with text in and text out. */
  callText(fn: string, input?: string): Promise<string>;
  /** Forgets the trace so far. */
  clearTrace(): void;
  initialize(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  unload(): Promise<void>;
  /** Closes the registry and removes its directory. Safe to call twice. */
  close(): Promise<void>;
}

/** The package bytes for a directory, a .wasm or a .forgepkg. */
async function packageOf(source: string, work: string, manifest: string | undefined): Promise<string> {
  if ((await stat(source)).isDirectory()) {
    const file = join(work, 'plugin.forgepkg');
    await writeFile(file, (await packDirectory(source)).bytes);
    return file;
  }
  if (!source.endsWith('.wasm')) return source;
  const dir = join(work, 'module');
  await mkdir(dir, { recursive: true });
  const name = basename(source, '.wasm').toLowerCase().replace(/[^a-z0-9-]/g, '-');
  await writeFile(join(dir, 'plugin.toml'), manifest ?? `[plugin]\nname = "${name}"\nversion = "0.0.0"\n`);
  await copyFile(source, join(dir, 'plugin.wasm'));
  return packageOf(dir, work, undefined);
}

/**
 * Loads the plugin at `source` in an isolated registry (the inline backend unless
 * `options.backend` names another; its own
 * temporary plugin, temp and audit directories) and, unless `options.start` is false,
 * initialises and starts it.
 *
 * @throws ForgeError whatever loading refuses the plugin for (FO_PACKAGE_*, FO_MANIFEST_*,
 *   FO_RUNTIME_IMPORT_DENIED, FO_VERIFY_* with a trust store, ...), or starting it does
 */
export async function testPlugin(source: string, options: TestPluginOptions = {}): Promise<TestedPlugin> {
  const home = await mkdtemp(join(tmpdir(), 'forge-test-plugin-'));
  let registry: PluginRegistry | undefined;
  try {
    const pkg = await packageOf(source, home, options.manifest);
    if (options.policy !== undefined) await writeFile(join(home, 'policy.cedar'), options.policy);
    const file = {
      plugin_manager: {
        plugin_directory: 'plugins',
        temp_directory: 'tmp',
        // By default the plugin runs on the test's own thread (the inline backend), unconfined.
        runtime: { backend: options.backend ?? 'inline' },
        security: { namespace_isolation: options.backend === 'process' },
        ...options.config,
        audit: { path: 'audit.log', level: 'all' },
        policy: {
          ...(options.policy === undefined ? {} : { cedar: 'policy.cedar', cedar_mode: options.cedarMode ?? 'forbid-only' }),
          ...(options.grants === undefined ? {} : { grants: { __plugin__: options.grants } }),
        },
      },
    };
    const audit = await AuditLog.open({ path: join(home, 'audit.log'), level: 'all' });
    const trace: HostCallTrace[] = [];
    const plugin: { digest?: string } = {};
    // Host calls are audited under the plugin's package digest; anything else (the load, lifecycle events) is not a host call.
    audit.observe((record: AuditEventNotice) => {
      if (plugin.digest === undefined || record.plugin !== plugin.digest || record.action.startsWith('plugin.')) return;
      trace.push({ call: record.action, decision: record.decision === 'allow' ? 'allow' : 'deny', seq: record.seq, ...(record.resource === undefined ? {} : { resource: record.resource }), ...(record.reason === undefined ? {} : { reason: record.reason }) });
    });
    const pluginName = await nameOf(pkg);
    const text = JSON.stringify(file).replace('"__plugin__"', JSON.stringify(pluginName));
    const config = parseConfig(text, { name: join(home, 'plugin-manager.yaml'), baseDir: home });
    registry = await PluginRegistry.create(config, {
      configDir: home,
      audit,
      attestation: options.trustStore === undefined ? { verifySignatures: false } : { verifySignatures: true, trustStore: options.trustStore },
    });
    const id = await registry.loadPlugin(pkg);
    plugin.digest = registry.get(id).digest;
    if (options.start !== false) await registry.startPlugin(id);
    return handle(registry, id, trace, home);
  } catch (error) {
    await registry?.close();
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

async function nameOf(pkg: string): Promise<string> {
  return (await readPackage(pkg)).manifest.name;
}

function handle(registry: PluginRegistry, id: string, trace: HostCallTrace[], home: string): TestedPlugin {
  const encoder = new TextEncoder();
  let closed = false;
  // The registry forgets an unloaded plugin; the handle remembers where it ended.
  let unloaded = false;
  const call = (fn: string, input: Uint8Array | string = new Uint8Array(0)): Promise<Uint8Array> => registry.call(id, fn, typeof input === 'string' ? encoder.encode(input) : input);
  return {
    id,
    registry,
    get state() {
      return unloaded ? PluginState.Unloaded : registry.get(id).state;
    },
    trace,
    call,
    callText: async (fn, input = '') => new TextDecoder().decode(await call(fn, input)),
    clearTrace: () => void trace.splice(0),
    initialize: () => registry.initializePlugin(id),
    start: () => registry.startPlugin(id),
    stop: () => registry.stopPlugin(id),
    pause: () => registry.pausePlugin(id),
    resume: () => registry.resumePlugin(id),
    unload: async () => {
      await registry.unloadPlugin(id);
      unloaded = true;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await registry.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
