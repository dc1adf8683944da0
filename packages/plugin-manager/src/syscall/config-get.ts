/**
 * forge.config_get: a value the operator configured for this plugin.
 *
 * Request: the key, UTF-8 (1 to 256 bytes). Response: the value, UTF-8. The gate sees
 * the key itself as the resource. The values are the operator's, read-only, and the
 * same for every call: the map is copied when the host functions are created.
 */
import { ForgeError } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from '../abi/index.js';
import { decodeUtf8, hasControl, utf8 } from './codec.js';

/** Longest config key, in bytes. */
export const CONFIG_MAX_KEY_BYTES = 256;

/** The plugin's configuration: key to text value. */
export type PluginConfig = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

function checkKey(call: string, request: Uint8Array): string {
  const key = decodeUtf8(request);
  if (request.length === 0 || request.length > CONFIG_MAX_KEY_BYTES || key === undefined || hasControl(key)) {
    throw new ForgeError(
      'FO_ABI_BAD_REQUEST',
      `${call}: expected a key of 1 to ${CONFIG_MAX_KEY_BYTES} bytes of UTF-8 text without control characters, found ${request.length} bytes${key === undefined ? ' of ill-formed UTF-8' : ''}`,
      { details: { call } },
    );
  }
  return key;
}

/**
 * The forge.config_get definition over a copy of `config`.
 * @param problems receives one line per value that is not a string
 */
export function configGetHostFunction(config: PluginConfig = {}, problems: string[] = []): HostFunctionDefinition {
  const values = new Map<string, Uint8Array>();
  const entries: [string, unknown][] = config instanceof Map ? [...(config as ReadonlyMap<string, unknown>).entries()] : Object.entries(config as Record<string, unknown>);
  for (const [key, value] of entries) {
    if (typeof value === 'string') values.set(key, utf8(value));
    else problems.push(`config.${key}: expected a string, found ${typeof value}`);
  }
  return {
    name: 'config_get',
    maxRequestBytes: CONFIG_MAX_KEY_BYTES,
    resource: (request) => checkKey('forge.config_get', request),
    handler(request: Uint8Array, { call }: HostCallContext): Uint8Array {
      const key = checkKey(call, request);
      const value = values.get(key);
      if (value === undefined) {
        throw new ForgeError('FO_SYSCALL_CONFIG_NOT_FOUND', `${call}: the operator configured no value for ${JSON.stringify(key)}`, { details: { call, key } });
      }
      return value;
    },
  };
}
