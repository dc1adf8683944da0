/**
 * Signed test plugins for the registry tests: a forge/1 guest (WAT, test-support/wat.ts)
 * whose lifecycle steps count into globals, packed with any plugin.toml and signed by a
 * test publisher, plus a registry on a fresh directory that trusts that publisher.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TelemetryBus, parseConfig, type TelemetryEvent } from '@forgeone/common';
import { AuditLog } from '@forgeone/microkernel';
import type { OpenPackageOptions } from '../../attestation/index.js';
import { createRevocationList } from '../../attestation/revocation.js';
import { signPackage } from '../../attestation/sign.js';
import { TrustStore } from '../../attestation/trust-store.js';
import { NOW, makeIssued, makePackage, makeRoot } from '../../attestation/test-support/pki.js';
import { InlineBackend, PoolBackend, type BackendHost, type IsolationBackend, type PoolOptions } from '../../sandbox/index.js';
import { assembleWat } from '../../test-support/wat.js';
import { PluginRegistry, type RegistryOptions } from '../registry.js';

const root = makeRoot('Registry Test Root');
const publisher = makeIssued(root, 'Registry Test Publisher', false);
/** A second publisher the same root vouches for: another signer, not another trust level. */
const otherPublisher = makeIssued(root, 'Other Test Publisher', false);
/** A publisher under a root the test trust store does not hold. */
const stranger = makeIssued(makeRoot('Stranger Root'), 'Stranger', false);
/** The publisher names the two test signers get from verification. */
export const PUBLISHERS = { test: 'Registry Test Publisher', other: 'Other Test Publisher' } as const;
export const trustStore = TrustStore.create({ roots: [root.certificate] });

/**
 * The test guest. Exports: echo (returns its input), trap, spin, steps (the lifecycle
 * steps run so far, as "init,start,..."), register (forge.register_extension with
 * field(point) field(export) as input) and, in the relay variant, relay
 * (forge.call_plugin with its input; importing it needs forge.call_plugin granted).
 * Each name in `forwards` (a forge.* call such as `kv_get`) is imported and exported as
 * `call_<name>`, which passes its input to the call and returns the call's answer.
 */
export const guest = (relay: boolean, weather = false, forwards: readonly string[] = []): string => `(module
  (import "forge" "register_extension" (func $register (param i32 i32) (result i64)))
  ${forwards.map((name) => `(import "forge" "${name}" (func $fwd_${name} (param i32 i32) (result i64)))`).join('\n  ')}
  ${relay ? '(import "forge" "call_plugin" (func $call (param i32 i32) (result i64)))' : ''}
  ${weather ? '(import "forge" "weather" (func $weather (param i32 i32) (result i64)))' : ''}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $log (mut i32) (i32.const 1024))
  (func $alloc (export "forge_alloc") (param $len i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap)) (global.set $heap (i32.add (local.get $p) (local.get $len))) (local.get $p))
  (func (export "forge_free") (param i32 i32))
  ;; Appends a step name (at $ptr, $len bytes) and a comma to the step log at 1024.
  (func $note (param $ptr i32) (param $len i32)
    (memory.copy (global.get $log) (local.get $ptr) (local.get $len))
    (global.set $log (i32.add (global.get $log) (local.get $len)))
    (i32.store8 (global.get $log) (i32.const 44))
    (global.set $log (i32.add (global.get $log) (i32.const 1))))
  (data (i32.const 0) "init") (data (i32.const 8) "start") (data (i32.const 16) "stop") (data (i32.const 24) "pause") (data (i32.const 32) "resume") (data (i32.const 40) "unload")
  (func (export "on_init") (result i32) (call $note (i32.const 0) (i32.const 4)) (i32.const 0))
  (func (export "on_start") (result i32) (call $note (i32.const 8) (i32.const 5)) (i32.const 0))
  (func (export "on_stop") (result i32) (call $note (i32.const 16) (i32.const 4)) (i32.const 0))
  (func (export "on_pause") (result i32) (call $note (i32.const 24) (i32.const 5)) (i32.const 0))
  (func (export "on_resume") (result i32) (call $note (i32.const 32) (i32.const 6)) (i32.const 0))
  (func (export "on_unload") (result i32) (call $note (i32.const 40) (i32.const 6)) (i32.const 0))
  (func (export "steps") (param i32 i32) (result i64)
    ;; K flag: the host copies the log region and does not free it.
    (i64.or (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 0x40000000)) (i64.extend_i32_u (i32.sub (global.get $log) (i32.const 1024)))))
  (func (export "echo") (param $p i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "trap") (param i32 i32) (result i64) (unreachable))
  (func (export "spin") (param i32 i32) (result i64) (loop $l (br $l)) (i64.const 0))
  (func (export "register") (param $p i32) (param $len i32) (result i64) (call $register (local.get $p) (local.get $len)))
  ${relay ? '(func (export "relay") (param $p i32) (param $len i32) (result i64) (call $call (local.get $p) (local.get $len)))' : ''}
  ${weather ? '(func (export "ask") (param $p i32) (param $len i32) (result i64) (call $weather (local.get $p) (local.get $len)))' : ''}
  ${forwards.map((name) => `(func (export "call_${name}") (param $p i32) (param $len i32) (result i64) (call $fwd_${name} (local.get $p) (local.get $len)))`).join('\n  ')})`;

const ENTRY_POINTS = `[entry_points]
init = "on_init"
start = "on_start"
stop = "on_stop"
pause = "on_pause"
resume = "on_resume"
unload = "on_unload"
`;

async function guestWasm(relay: boolean, weather: boolean, forwards: readonly string[] = []): Promise<Buffer> {
  return Buffer.from(await assembleWat(guest(relay, weather, forwards)));
}

/** A signed package of the test guest; `extra` is appended to plugin.toml (tables after [entry_points]). */
export async function signedPlugin(name: string, version = '1.0.0', extra = '', signed = true, relay = false, weather = false): Promise<Buffer> {
  const toml = `[plugin]\nname = "${name}"\nversion = "${version}"\n\n${ENTRY_POINTS}\n${extra}\n`;
  const bytes = makePackage({ toml, wasm: await guestWasm(relay, weather) });
  if (!signed) return bytes;
  return (await signPackage(bytes, { key: publisher.key, certificate: publisher.certificate.der, now: NOW })).bytes;
}

/** `bytes` (a package, e.g. from packDirectory) signed by the test publisher. */
export async function signAsTestPublisher(bytes: Uint8Array): Promise<Buffer> {
  return (await signPackage(bytes, { key: publisher.key, certificate: publisher.certificate.der, now: NOW })).bytes;
}

/** A package of `name` 1.0.0 with the module `wat` assembles, signed by the test publisher. */
export async function signedWatPlugin(name: string, wat: string): Promise<Buffer> {
  const bytes = makePackage({ toml: `[plugin]\nname = "${name}"\nversion = "1.0.0"\n`, wasm: Buffer.from(await assembleWat(wat)) });
  return (await signPackage(bytes, { key: publisher.key, certificate: publisher.certificate.der, now: NOW })).bytes;
}

/** What {@link packagedPlugin} builds. */
export interface PluginPackageSpec {
  readonly name: string;
  readonly version?: string;
  /** Appended to plugin.toml after [entry_points]. */
  readonly toml?: string;
  /** Who signs it: the test publisher (default), the other one, a stranger (untrusted root), or nobody. */
  readonly signer?: keyof typeof PUBLISHERS | 'stranger' | null;
  /** forge.* calls the guest forwards, as `call_<name>` exports. */
  readonly forwards?: readonly string[];
}

/** A package of the test guest, signed by the publisher `spec.signer` names. */
export async function packagedPlugin(spec: PluginPackageSpec): Promise<Buffer> {
  const toml = `[plugin]\nname = "${spec.name}"\nversion = "${spec.version ?? '1.0.0'}"\n\n${ENTRY_POINTS}\n${spec.toml ?? ''}\n`;
  const bytes = makePackage({ toml, wasm: await guestWasm(false, false, spec.forwards ?? []) });
  if (spec.signer === null) return bytes;
  const signer = spec.signer === 'other' ? otherPublisher : spec.signer === 'stranger' ? stranger : publisher;
  return (await signPackage(bytes, { key: signer.key, certificate: signer.certificate.der, now: NOW })).bytes;
}

/** A trust store holding the test root, with `digests` revoked (signed by the root). */
export function revokingTrustStore(digests: readonly string[]): TrustStore {
  const text = createRevocationList({ serials: [], key_ids: [], digests: [...digests] }, root.key, NOW);
  return TrustStore.create({ roots: [root.certificate], revocations: { text, source: 'test revocations' } });
}

/**
 * A registry on a fresh directory, trusting the test publisher, recording telemetry.
 * `options.pool` adds to the pool's options (`size: 1`).
 */
export async function testRegistry(
  backend: 'inline' | 'pool' | 'process' = 'inline',
  yaml = '',
  options: { readonly attestation?: OpenPackageOptions | undefined; readonly pool?: PoolOptions; readonly backend?: (host: BackendHost) => IsolationBackend; readonly auditDir?: string } = {},
  registryOptions: Pick<RegistryOptions, 'tracing' | 'logger'> = {},
): Promise<{ registry: PluginRegistry; events: TelemetryEvent[]; dir: string; audit: AuditLog }> {
  const attestation = options.attestation ?? { verifySignatures: true, trustStore, now: NOW };
  const dir = await mkdtemp(join(tmpdir(), 'forge-registry-'));
  const config = parseConfig(
    `plugin_manager:\n  plugin_directory: plugins\n  temp_directory: tmp\n  default_timeout: 5s\n  runtime:\n    restart_backoff: 5ms\n${backend === 'process' ? '    backend: process\n' : ''}${yaml}`,
    { name: 'test.yaml', baseDir: dir },
  );
  const telemetry = new TelemetryBus();
  const events: TelemetryEvent[] = [];
  telemetry.subscribe((event) => events.push(event));
  const audit = await AuditLog.open({ path: join(options.auditDir ?? dir, 'audit.log') });
  const registry = await PluginRegistry.create(config, {
    configDir: dir,
    telemetry,
    audit,
    attestation,
    // The process backend as the configuration makes it (runtime.backend: process).
    ...(backend === 'process' && options.backend === undefined ? {} : { backend: options.backend ?? ((host: BackendHost) => (backend === 'inline' ? new InlineBackend(host) : new PoolBackend(host, { size: 1, ...options.pool }))) }),
    ...registryOptions,
  });
  return { registry, events, dir, audit };
}

/** A guest whose `work` export makes 5,000 forge.time_now host calls in one call (audit volume). */
export const CHATTY_GUEST = `(module
  (import "forge" "time_now" (func $time (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "forge_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "forge_free") (param i32 i32))
  (func (export "work") (param i32 i32) (result i64) (local $n i32)
    (loop $l
      (drop (call $time (i32.const 0) (i32.const 0)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 5000))))
    (i64.const 0)))`;

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const read = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** `field(a) field(b) rest` in the forge.* request encoding. */
export function fields(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  parts.forEach((part, index) => {
    const bytes = typeof part === 'string' ? text(part) : part;
    if (index < parts.length - 1 || typeof part === 'string') {
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, bytes.length, true);
      chunks.push(length);
    }
    chunks.push(bytes);
  });
  return Buffer.concat(chunks);
}
