import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdentityContext, object, required, string, type PluginIdentity } from '@forgeone/common';
import { SyscallBridge, TrustContext, type BridgeAuditEntry, type Ceiling } from '@forgeone/microkernel';
import { HostFunctionRegistry, forgeLog, instantiateAbi } from '../abi/index.js';
import { guestCodeOfSync } from '../abi/test-support/guest-code.js';
import { BUMP_ALLOCATOR, assemble } from '../abi/test-support/guests.js';
import { registeredHostFunctions } from './registered-calls.js';

const plugin: PluginIdentity = { publisher: 'acme', name: 'weather-app', version: '1.0.0', digest: `sha256:${'7'.repeat(64)}`, attested: true };
const host = new IdentityContext('embedder');
const identity = host.forPlugin(plugin);

/** Relays its input to forge.weather and returns the host's answer as its own. */
const RELAY = `(module
  (import "forge" "weather" (func $weather (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  (func (export "ask") (param $p i32) (param $len i32) (result i64) (call $weather (local.get $p) (local.get $len))))`;

async function setup(syscalls: string[], handler: (args: { city: string }) => unknown = (args) => ({ city: args.city, sky: 'clear' })) {
  const trust = new TrustContext(host);
  const ceiling: Ceiling = { filesystem: [], network: [], allowed_hosts: [], syscalls, volumes: [] };
  const pluginTrust = trust.registerPlugin(plugin, ceiling);
  const audit: BridgeAuditEntry[] = [];
  const bridge = new SyscallBridge({ trust, audit: { level: 'decisions', record: (entry) => audit.push(entry) } });
  bridge.register({
    name: 'forge.weather',
    description: 'The weather in a city',
    args: object({ city: required(string({ minLength: 1, maxLength: 64 }), 'City.') }),
    resource: 'key',
    resourceOf: (args) => args.city,
    handler,
  });
  const gate = bridge.gateFor(pluginTrust, identity);
  const registry = new HostFunctionRegistry().define(forgeLog);
  for (const definition of registeredHostFunctions(bridge, identity)) registry.define(definition);
  const instance = instantiateAbi(await assemble('relay', RELAY), { gate, hostFunctions: registry });
  const ask = (json: string) => new TextDecoder().decode(instance.call('ask', new TextEncoder().encode(json)));
  return { ask, audit, bridge };
}

describe('host calls registered by the host application', () => {
  it('lets a plugin whose manifest lists the call invoke it with JSON, through policy and audit', async () => {
    const { ask, audit } = await setup(['forge.weather']);
    assert.equal(ask('{"city":"Oslo"}'), '{"city":"Oslo","sky":"clear"}');
    assert.deepEqual(audit.map((entry) => [entry.action, entry.resource, entry.allowed]), [['forge.weather', 'Oslo', true]]);
  });

  it('refuses the call when the manifest does not list it, and audits the denial', async () => {
    const { ask, audit } = await setup([]);
    assert.equal(guestCodeOfSync(() => ask('{"city":"Oslo"}')), 'FO_ABI_HOST_DENIED');
    assert.deepEqual(audit.map((entry) => entry.allowed), [false]);
  });

  it('refuses arguments the schema rejects, and malformed JSON, before policy', async () => {
    const { ask, audit } = await setup(['forge.weather']);
    assert.equal(guestCodeOfSync(() => ask('{"town":"Oslo"}')), 'FO_SYSCALL_INVALID_ARGS');
    assert.equal(guestCodeOfSync(() => ask('{city')), 'FO_ABI_BAD_REQUEST');
    assert.equal(audit.length, 0);
  });

  it('refuses a handler that answers asynchronously', async () => {
    const { ask } = await setup(['forge.weather'], () => Promise.resolve({}));
    assert.equal(guestCodeOfSync(() => ask('{"city":"Oslo"}')), 'FO_SYSCALL_ASYNC_HANDLER');
  });
});
