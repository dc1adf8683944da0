/**
 * forge.kv_get, kv_set, kv_delete and kv_list over the plugin's {@link KvStore}.
 *
 * Keys are 1 to `maxKeyBytes` bytes of well-formed UTF-8 without control characters
 * (they appear in audit records); values are any bytes. The gate sees `kv:<key>`, and
 * for kv_list `kv:<prefix>*`. A malformed key is refused before policy is asked.
 *
 * | call | request | response |
 * | --- | --- | --- |
 * | kv_get | key | the value |
 * | kv_set | field key, value (rest) | empty |
 * | kv_delete | key | 1 byte: 1 removed, 0 was absent |
 * | kv_list | u32 limit, field prefix, cursor (rest) | u32 count, count x field key, field next cursor (empty: done) |
 */
import { ForgeError } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from '../abi/index.js';
import { RequestReader, ResponseWriter, decodeUtf8, hasControl } from './codec.js';
import type { KvLimits } from './limits.js';
import type { KvStore } from './kv-store.js';

/** Slack on top of the key and value limits before a request is refused unread (FO_ABI_INPUT_TOO_LARGE). */
const REQUEST_SLACK_BYTES = 4096;

/** Opens the store on first use; absent when the host gave no directory. */
export type KvStoreAccess = () => KvStore;

/** A checked key: its bytes and its text. */
interface Key {
  readonly bytes: Uint8Array;
  readonly text: string;
}

/**
 * Checks a key (or, with `allowEmpty`, a prefix).
 * @throws ForgeError FO_SYSCALL_KV_BAD_KEY, FO_SYSCALL_KV_KEY_TOO_LARGE
 */
function checkKey(call: string, bytes: Uint8Array, limits: KvLimits, what = 'key', allowEmpty = false): Key {
  if (bytes.length > limits.maxKeyBytes) {
    throw new ForgeError('FO_SYSCALL_KV_KEY_TOO_LARGE', `${call}: expected a ${what} of at most ${limits.maxKeyBytes} bytes, found ${bytes.length}`, {
      details: { call, limit: limits.maxKeyBytes, actual: bytes.length },
    });
  }
  const text = decodeUtf8(bytes);
  const problem =
    bytes.length === 0 && !allowEmpty
      ? 'is empty'
      : text === undefined
        ? 'is not well-formed UTF-8'
        : hasControl(text)
          ? 'holds a control character'
          : undefined;
  if (problem !== undefined) {
    throw new ForgeError('FO_SYSCALL_KV_BAD_KEY', `${call}: expected a ${what} of UTF-8 text without control characters, found one that ${problem}`, {
      details: { call, problem },
    });
  }
  return { bytes, text: text as string };
}

function readSetRequest(call: string, request: Uint8Array, limits: KvLimits): { key: Key; value: Uint8Array } {
  const reader = new RequestReader(call, request);
  const key = checkKey(call, reader.field('key'), limits);
  return { key, value: reader.rest() };
}

interface ListRequest {
  readonly limit: number;
  readonly prefix: Key;
  readonly cursor: Uint8Array;
}

function readListRequest(call: string, request: Uint8Array, limits: KvLimits): ListRequest {
  const reader = new RequestReader(call, request);
  const asked = reader.u32('limit');
  const prefix = checkKey(call, reader.field('prefix'), limits, 'prefix', true);
  const cursor = reader.rest();
  if (cursor.length > limits.maxKeyBytes) checkKey(call, cursor, limits, 'cursor');
  return { limit: asked === 0 ? limits.maxListKeys : Math.min(asked, limits.maxListKeys), prefix, cursor };
}

/** The four kv definitions. `store` opens the plugin's store on first use. */
export function kvHostFunctions(store: KvStoreAccess, limits: KvLimits): HostFunctionDefinition[] {
  const keyRequestBytes = limits.maxKeyBytes + REQUEST_SLACK_BYTES;
  return [
    {
      name: 'kv_get',
      maxRequestBytes: keyRequestBytes,
      resource: (request) => `kv:${checkKey('forge.kv_get', request, limits).text}`,
      handler(request: Uint8Array, { call }: HostCallContext): Uint8Array {
        const value = store().get(request);
        if (value === undefined) {
          throw new ForgeError('FO_SYSCALL_KV_NOT_FOUND', `${call}: no value is stored under the key ${JSON.stringify(decodeUtf8(request))}`, { details: { call } });
        }
        return value;
      },
    },
    {
      name: 'kv_set',
      maxRequestBytes: 4 + limits.maxKeyBytes + limits.maxValueBytes + REQUEST_SLACK_BYTES,
      resource: (request) => `kv:${readSetRequest('forge.kv_set', request, limits).key.text}`,
      handler(request: Uint8Array, { call }: HostCallContext): Uint8Array {
        const { key, value } = readSetRequest(call, request, limits);
        if (value.length > limits.maxValueBytes) {
          throw new ForgeError('FO_SYSCALL_KV_VALUE_TOO_LARGE', `${call}: expected a value of at most ${limits.maxValueBytes} bytes, found ${value.length}`, {
            details: { call, limit: limits.maxValueBytes, actual: value.length },
          });
        }
        store().set(key.bytes, value);
        return EMPTY;
      },
    },
    {
      name: 'kv_delete',
      maxRequestBytes: keyRequestBytes,
      resource: (request) => `kv:${checkKey('forge.kv_delete', request, limits).text}`,
      handler: (request: Uint8Array): Uint8Array => (store().delete(request) ? REMOVED : ABSENT),
    },
    {
      name: 'kv_list',
      maxRequestBytes: 4 + 4 + 2 * limits.maxKeyBytes + REQUEST_SLACK_BYTES,
      resource: (request) => `kv:${readListRequest('forge.kv_list', request, limits).prefix.text}*`,
      handler(request: Uint8Array, { call }: HostCallContext): Uint8Array {
        const { limit, prefix, cursor } = readListRequest(call, request, limits);
        const page = store().list(prefix.bytes, cursor, limit);
        const out = new ResponseWriter().u32(page.keys.length);
        for (const key of page.keys) out.field(key);
        const last = page.keys[page.keys.length - 1];
        return out.field(page.more && last !== undefined ? last : EMPTY).finish();
      },
    },
  ];
}

const EMPTY = new Uint8Array(0);
const REMOVED = Uint8Array.of(1);
const ABSENT = Uint8Array.of(0);
