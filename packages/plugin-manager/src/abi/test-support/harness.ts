/** Shared pieces for the ABI tests: loading guests, a recording gate and logger. */
import { ALLOW_ALL_GATE, createLogger, type HostCallDenial, type HostCallGate, type LogRecord } from '@forgeone/common';
import { forgeLog } from '../forge-log.js';
import { HostFunctionRegistry } from '../host-functions.js';
import type { AbiInstance } from '../instance.js';
import { instantiateAbi, type InstantiateAbiOptions } from '../instantiate.js';
import type { WatFeatures } from '../../test-support/wat.js';
import { assemble } from './guests.js';

/** A gate that records every check and refusal, and denies what `deny` names a reason for. */
export class RecordingGate implements HostCallGate {
  readonly checks: { call: string; resource: string | undefined }[] = [];
  readonly refusals: { call: string; resource: string | undefined; reason: string; requested: string | undefined }[] = [];
  readonly #deny: (call: string, resource: string | undefined) => string | undefined;

  constructor(deny: (call: string, resource: string | undefined) => string | undefined = () => undefined) {
    this.#deny = deny;
  }

  check(call: string, resource?: string): HostCallDenial | undefined {
    this.checks.push({ call, resource });
    const reason = this.#deny(call, resource);
    return reason === undefined ? undefined : { reason };
  }

  refuse(call: string, resource: string | undefined, reason: string, requested?: string): void {
    this.refusals.push({ call, resource, reason, requested });
  }
}

/** A logger that keeps every record, trace and up. */
export function recordingLogger(): { logger: ReturnType<typeof createLogger>; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: createLogger((record) => records.push(record), 'trace'), records };
}

/** How often each test host function ran. */
export interface HandlerRuns {
  echo: number;
  blob: number;
}

/**
 * The host functions the client guest imports: the real forge.log, forge.echo (returns
 * the request; takes up to 16 MiB) and forge.blob (returns as many bytes as the u32 little-endian request
 * says, byte i being i mod 251).
 */
export function testHostFunctions(runs: HandlerRuns = { echo: 0, blob: 0 }): HostFunctionRegistry {
  return new HostFunctionRegistry()
    .define(forgeLog)
    .define({
      name: 'echo',
      maxRequestBytes: 16 * 1024 * 1024,
      handler: (request) => {
        runs.echo += 1;
        return request;
      },
    })
    .define({
      name: 'blob',
      handler: (request) => {
        runs.blob += 1;
        const length = new DataView(request.buffer, request.byteOffset, request.byteLength).getUint32(0, true);
        const out = new Uint8Array(length);
        for (let i = 0; i < length; i += 1) out[i] = i % 251;
        return out;
      },
    });
}

/** Assembles `text` and instantiates it through forge/1 (gate: allow all, unless given). */
export async function load(
  name: string,
  text: string,
  options: Partial<InstantiateAbiOptions> = {},
  features: WatFeatures = {},
): Promise<AbiInstance> {
  return instantiateAbi(await assemble(name, text, features), { gate: ALLOW_ALL_GATE, ...options });
}

/** The value of an exported i32 global of the plugin. */
export function globalOf(plugin: AbiInstance, name: string): number {
  return (plugin.instance.exports[name] as { value: number }).value;
}

/** Sets an exported mutable i32 global of the plugin. */
export function setGlobal(plugin: AbiInstance, name: string, value: number): void {
  (plugin.instance.exports[name] as { value: number }).value = value;
}

/** Bytes 0..n-1, byte i being (i * 7 + 3) mod 256: a pattern no bug reproduces by accident. */
export function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 7 + 3) & 0xff;
  return out;
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
