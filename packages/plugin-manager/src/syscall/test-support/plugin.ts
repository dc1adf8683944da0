/**
 * A relay plugin (guests.ts) running with the forge.* host functions under a real
 * policy (policy.ts), and request builders in the documented encodings.
 */
import assert from 'node:assert/strict';
import type { LogRecord } from '@forgeone/common';
import { instantiateAbi, type AbiInstance } from '../../abi/index.js';
import { guestFailureOfSync, type RelayedFailure } from '../../abi/test-support/guest-code.js';
import { recordingLogger } from '../../abi/test-support/harness.js';
import { createForgeHostFunctions, type ForgeHostFunctions, type ForgeHostOptions } from '../forge-host.js';
import { relayModule } from './guests.js';
import { recordingPolicy, type RecordingPolicy, type RecordingPolicySetup } from '@forgeone/microkernel/testing';

/** A running relay plugin. */
export interface TestPlugin {
  readonly instance: AbiInstance;
  readonly host: ForgeHostFunctions;
  readonly policy: RecordingPolicy;
  readonly logs: LogRecord[];
  /** Calls forge.<name> through the guest; returns the result bytes. */
  call(name: string, request?: Uint8Array): Uint8Array;
  /** Calls forge.<name> through the guest and returns the error code the guest got (`ok` when none). */
  code(name: string, request?: Uint8Array): string;
  /** Like {@link code}, with the message. */
  failure(name: string, request?: Uint8Array): RelayedFailure;
}

/**
 * Starts a relay plugin with host functions built from `options` and the policy from
 * `policy`; `options.gate`, when given, replaces the policy's gate everywhere.
 */
export async function relayPlugin(options: Partial<ForgeHostOptions> = {}, policy: RecordingPolicySetup = {}): Promise<TestPlugin> {
  const built = recordingPolicy(policy);
  const gate = options.gate ?? built.gate;
  const { logger, records } = recordingLogger();
  const host = createForgeHostFunctions({ plugin: 'acme/tester@1.0.0', ...options, gate });
  const instance = instantiateAbi(await relayModule(), { gate, logger, hostFunctions: host.registry() });
  const failure = (name: string, request: Uint8Array = new Uint8Array(0)): RelayedFailure => guestFailureOfSync(() => instance.call(name, request));
  return {
    instance,
    host,
    policy: built,
    logs: records,
    call: (name, request = new Uint8Array(0)) => instance.call(name, request),
    code: (name, request) => failure(name, request).code,
    failure,
  };
}

const encoder = new TextEncoder();

/** UTF-8 bytes of text, or the bytes as given. */
export function bytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/** Little-endian u32. */
export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** Concatenates parts. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A u32 length and the bytes. */
export function field(value: string | Uint8Array): Uint8Array {
  const body = bytes(value);
  return concat(u32(body.length), body);
}

/** A kv_set request. */
export function kvSet(key: string | Uint8Array, value: string | Uint8Array): Uint8Array {
  return concat(field(key), bytes(value));
}

/** A kv_list request. */
export function kvList(prefix: string, limit = 0, cursor: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(u32(limit), field(prefix), cursor);
}

/** Decodes a kv_list response. */
export function decodeList(response: Uint8Array): { keys: string[]; cursor: Uint8Array } {
  const view = new DataView(response.buffer, response.byteOffset, response.byteLength);
  let offset = 0;
  const next = (): Uint8Array => {
    const length = view.getUint32(offset, true);
    const out = response.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return out;
  };
  const count = view.getUint32(0, true);
  offset = 4;
  const keys: string[] = [];
  for (let i = 0; i < count; i += 1) keys.push(new TextDecoder().decode(next()));
  const cursor = next();
  assert.equal(offset, response.length, 'the response ends after the cursor');
  return { keys, cursor };
}

/** An http_request request. */
export function httpRequest(spec: { method?: string; url: string; headers?: [string, string][]; timeoutMs?: number; follow?: boolean; body?: string | Uint8Array }): Uint8Array {
  const headers = spec.headers ?? [];
  return concat(
    field(spec.method ?? 'GET'),
    field(spec.url),
    u32(headers.length),
    ...headers.map(([name, value]) => concat(field(name), field(value))),
    u32(spec.timeoutMs ?? 0),
    u32(spec.follow === false ? 0 : 1),
    bytes(spec.body ?? ''),
  );
}

/** A decoded http_request response. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: [string, string][];
  readonly url: string;
  readonly body: Uint8Array;
  header(name: string): string | undefined;
  text(): string;
}

/** Decodes an http_request response. */
export function decodeHttp(response: Uint8Array): HttpResponse {
  const view = new DataView(response.buffer, response.byteOffset, response.byteLength);
  let offset = 0;
  const word = (): number => {
    const value = view.getUint32(offset, true);
    offset += 4;
    return value;
  };
  const text = (): string => {
    const length = word();
    const out = new TextDecoder().decode(response.subarray(offset, offset + length));
    offset += length;
    return out;
  };
  const status = word();
  const count = word();
  const headers: [string, string][] = [];
  for (let i = 0; i < count; i += 1) headers.push([text(), text()]);
  const url = text();
  const body = response.slice(offset);
  return {
    status,
    headers,
    url,
    body,
    header: (name) => headers.find(([key]) => key.toLowerCase() === name)?.[1],
    text: () => new TextDecoder().decode(body),
  };
}

/** A file_write request. */
export function fileWrite(path: string, data: string | Uint8Array, mode: 'replace' | 'append' | 'create' | number = 'replace'): Uint8Array {
  const number = typeof mode === 'number' ? mode : ['replace', 'append', 'create'].indexOf(mode);
  return concat(field(path), u32(number), bytes(data));
}

/** An emit_event request. */
export function emitEvent(name: string, payload: string | Uint8Array = ''): Uint8Array {
  return concat(field(name), bytes(payload));
}
