/**
 * forge.http_request: an outbound HTTP(S) request, synchronous for the guest.
 *
 * Request:
 *
 * ```
 * field method        GET HEAD POST PUT PATCH DELETE OPTIONS
 * field url           absolute http:// or https:// URL, no user:password@
 * u32   header count  then per header: field name, field value
 * u32   timeout ms    0: the host's default; more than the host's maximum is cut to it
 * u32   flags         bit 0: follow redirects; other bits must be 0
 * body                the rest of the request
 * ```
 *
 * Response: `u32 status, u32 header count, (field name, field value) per header, field
 * final url, body (rest)`. Headers come as received, in order, duplicates kept.
 *
 * Policy: the gate sees `host:port` (the port always written, `example.com:443`)
 * before the first hop, through the ABI; every redirect hop is asked again here, with
 * the same call name, before anything is sent to the new host. On top of policy, a
 * destination whose address is not public (address.ts) is refused unless the
 * operator granted that exact host: see {@link ExplicitHosts}.
 *
 * The calling thread blocks on the I/O bridge while the worker performs each hop; the
 * timeout covers every hop, name resolution and the whole body.
 */
import { ForgeError, type HostCallGate } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from '../abi/index.js';
import { monotonicMs, type HostClock } from './clock.js';
import { RequestReader, ResponseWriter, decodeUtf8 } from './codec.js';
import { REDIRECT_STATUSES, type HttpHop, type HttpHopResult } from './http-hop.js';
import type { HttpLimits } from './limits.js';
import type { SyncBridge } from './sync-bridge.js';

/** Methods a plugin may send. */
export const HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Request headers the host sets or refuses itself (compared in lower case). */
export const FORBIDDEN_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
  'http2-settings',
]);

/** Headers dropped when a redirect changes origin, as browsers and curl do. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

const MAX_HEADERS = 64;
const MAX_HEADER_NAME_BYTES = 256;
const MAX_HEADER_VALUE_BYTES = 8192;
const MAX_URL_BYTES = 8192;
/** Time the bridge waits beyond the request's own deadline before it gives up on the worker. */
const BRIDGE_GRACE_MS = 2000;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** The decoded request. */
export interface HttpRequestSpec {
  readonly method: string;
  readonly url: URL;
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
  readonly follow: boolean;
  readonly body: Uint8Array;
}

/**
 * Hosts the operator granted by exact name or IP literal, optionally with a port: the
 * only destinations allowed to have a non-public address. A name here may resolve to
 * any address; a wildcard grant (`*.corp`) or a manifest's allowed_hosts never counts.
 */
export interface ExplicitHosts {
  has(hostname: string, port: number): boolean;
}

/**
 * Parses the explicit host grants: `name`, `name:port`, `a.b.c.d[:port]`,
 * `[v6][:port]`. Names are compared as the URL parser writes them (lower case,
 * punycode, canonical IP literals).
 *
 * @param problems receives one line per malformed or wildcard entry
 */
export function explicitHosts(entries: readonly string[], problems: string[] = []): ExplicitHosts {
  const exact = new Set<string>();
  entries.forEach((entry, index) => {
    const parsed = typeof entry === 'string' && !entry.includes('*') ? parseHostEntry(entry) : undefined;
    if (parsed === undefined) {
      problems.push(`explicitHosts[${index}]: expected an exact host or IP literal with an optional :port (no wildcards), found ${JSON.stringify(entry)}`);
      return;
    }
    exact.add(parsed.port === undefined ? parsed.host : `${parsed.host}:${parsed.port}`);
  });
  return { has: (hostname, port) => exact.has(hostname) || exact.has(`${hostname}:${port}`) };
}

function parseHostEntry(entry: string): { host: string; port: number | undefined } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
  if (match === null) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  try {
    const host = new URL(`http://${match[1] as string}/`).hostname;
    return host === '' ? undefined : { host, port };
  } catch {
    return undefined;
  }
}

/** The effective port of an http(s) URL. */
function portOf(url: URL): number {
  return url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
}

/** What the gate sees for `url`: `host:port`, the port always written. */
export function hostResource(url: URL): string {
  return `${url.hostname}:${portOf(url)}`;
}

/**
 * Parses and checks a URL (the request's or a redirect's).
 * @throws ForgeError FO_SYSCALL_HTTP_BAD_URL
 */
export function checkUrl(call: string, text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw badUrl(call, `expected an absolute http:// or https:// URL, found ${JSON.stringify(text.slice(0, 200))}`);
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? `the scheme ${url.protocol.slice(0, -1)} is not http or https`
      : url.username !== '' || url.password !== ''
        ? 'it carries user:password@ credentials (send an Authorization header instead)'
        : url.hostname === ''
          ? 'it names no host'
          : url.href.length > MAX_URL_BYTES
            ? `it is longer than ${MAX_URL_BYTES} characters`
            : undefined;
  if (problem !== undefined) throw badUrl(call, `expected an absolute http(s) URL, found one where ${problem}`);
  url.hash = '';
  return url;
}

function badUrl(call: string, message: string): ForgeError {
  return new ForgeError('FO_SYSCALL_HTTP_BAD_URL', `${call}: ${message}`, { details: { call } });
}

function badRequest(call: string, message: string): ForgeError {
  return new ForgeError('FO_SYSCALL_HTTP_BAD_REQUEST', `${call}: ${message}`, { details: { call } });
}

/**
 * Decodes and checks a request.
 * @throws ForgeError FO_ABI_BAD_REQUEST (layout), FO_SYSCALL_HTTP_BAD_URL,
 *   FO_SYSCALL_HTTP_BAD_REQUEST, FO_SYSCALL_PAYLOAD_TOO_LARGE
 */
export function decodeHttpRequest(call: string, request: Uint8Array, limits: HttpLimits): HttpRequestSpec {
  const reader = new RequestReader(call, request);
  const method = reader.text('method');
  const url = checkUrl(call, reader.text('url'));
  const count = reader.u32('header count');
  if (count > MAX_HEADERS) throw badRequest(call, `expected at most ${MAX_HEADERS} headers, found ${count}`);
  const headers: [string, string][] = [];
  for (let i = 0; i < count; i += 1) {
    const name = decodeUtf8(reader.field(`header ${i} name`)) ?? '';
    const value = decodeUtf8(reader.field(`header ${i} value`)) ?? '\n';
    if (name.length > MAX_HEADER_NAME_BYTES || !TOKEN.test(name)) throw badRequest(call, `header ${i}: expected a name of 1-${MAX_HEADER_NAME_BYTES} token characters, found ${JSON.stringify(name.slice(0, 64))}`);
    if (FORBIDDEN_REQUEST_HEADERS.has(name.toLowerCase())) throw badRequest(call, `header ${i}: ${name} is set by the host and may not be sent by a plugin`);
    if (value.length > MAX_HEADER_VALUE_BYTES || !HEADER_VALUE.test(value)) {
      throw badRequest(call, `header ${name}: expected a value of at most ${MAX_HEADER_VALUE_BYTES} printable ASCII characters or tabs, found one that is not`);
    }
    headers.push([name, value]);
  }
  const timeout = reader.u32('timeout');
  const flags = reader.u32('flags');
  const body = reader.rest();
  if (!HTTP_METHODS.has(method)) throw badRequest(call, `expected a method among ${[...HTTP_METHODS].join(', ')}, found ${JSON.stringify(method.slice(0, 32))}`);
  if ((flags & ~1) !== 0) throw badRequest(call, `expected flags with only bit 0 (follow redirects) set, found 0x${flags.toString(16)}`);
  if (body.length > limits.maxRequestBodyBytes) {
    throw new ForgeError('FO_SYSCALL_PAYLOAD_TOO_LARGE', `${call}: expected a body of at most ${limits.maxRequestBodyBytes} bytes, found ${body.length}`, {
      details: { call, limit: limits.maxRequestBodyBytes, actual: body.length },
    });
  }
  return { method, url, headers, timeoutMs: timeout === 0 ? limits.defaultTimeoutMs : Math.min(timeout, limits.maxTimeoutMs), follow: (flags & 1) === 1, body };
}

/** What forge.http_request needs from the host. */
export interface HttpDeps {
  /** The plugin's gate (the one its host functions are bound to), asked again for every redirect. */
  readonly gate: HostCallGate;
  readonly bridge: Pick<SyncBridge, 'call'> | undefined;
  readonly explicit: ExplicitHosts;
  readonly limits: HttpLimits;
  readonly clock: HostClock;
}

/** The forge.http_request definition. */
export function httpRequestHostFunction(deps: HttpDeps): HostFunctionDefinition {
  const { limits } = deps;
  return {
    name: 'http_request',
    maxRequestBytes: limits.maxRequestBodyBytes + 2 * MAX_URL_BYTES + MAX_HEADERS * (MAX_HEADER_NAME_BYTES + MAX_HEADER_VALUE_BYTES + 8),
    resource: (request) => hostResource(decodeHttpRequest('forge.http_request', request, limits).url),
    handler(request: Uint8Array, context: HostCallContext): Uint8Array {
      const spec = decodeHttpRequest(context.call, request, limits);
      const bridge = deps.bridge;
      if (bridge === undefined) {
        throw new ForgeError('FO_SYSCALL_NOT_CONFIGURED', `${context.call}: this host has no I/O bridge for outbound requests`, { details: { call: context.call } });
      }
      const { url, result } = follow(spec, bridge, deps, context);
      const out = new ResponseWriter().u32(result.status).u32(result.headers.length / 2);
      for (const item of result.headers) out.text(item);
      return out.text(url.href).raw(result.body).finish();
    },
  };
}

/** Runs the hops of one request; returns the final URL and response. */
function follow(spec: HttpRequestSpec, bridge: Pick<SyncBridge, 'call'>, deps: HttpDeps, { call, logger }: HostCallContext): { url: URL; result: HttpHopResult } {
  const deadline = monotonicMs(deps.clock) + spec.timeoutMs;
  let { url, method, body } = spec;
  let headers = spec.headers;
  for (let hop = 0; ; hop += 1) {
    const host = hostResource(url);
    if (hop > 0) {
      const denial = deps.gate.check(call, host, undefined, url.href);
      if (denial !== undefined) {
        // `audited`: the gate recorded this denial, with the redirect's URL.
        throw new ForgeError('FO_SYSCALL_HTTP_REDIRECT_DENIED', `${call}: a redirect to ${host} was not followed: host policy does not allow that host`, {
          details: { call, host, hop, audited: true },
        });
      }
    }
    const left = deadline - monotonicMs(deps.clock);
    if (left <= 0) throw timeout(call, host, spec.timeoutMs);
    const job: HttpHop = {
      method,
      url: url.href,
      headers,
      body,
      timeoutMs: left,
      maxResponseBytes: deps.limits.maxResponseBytes,
      allowNonPublic: deps.explicit.has(url.hostname, portOf(url)),
      redirectsFollowed: spec.follow,
    };
    let result: HttpHopResult;
    try {
      result = bridge.call<HttpHopResult>('http.hop', job, left + BRIDGE_GRACE_MS);
    } catch (error) {
      if (ForgeError.is(error, 'FO_SYSCALL_HTTP_PRIVATE_ADDRESS')) {
        // Policy allowed the host; the address it resolved to was refused. The audit
        // record (not the guest) gets the URL asked for and the address.
        throw new ForgeError(error.code, error.message, { details: { ...error.details, requested: url.href, audit: `it resolved to ${String(error.details['address'])}` } });
      }
      if (!ForgeError.is(error, 'FO_SYSCALL_BRIDGE_TIMEOUT')) throw error;
      logger.warn('the I/O worker did not finish an HTTP request in time and was replaced', { call, host });
      throw timeout(call, host, spec.timeoutMs);
    }
    logger.debug('http request hop', { call, host, method, status: result.status, address: result.address, hop });
    const location = spec.follow && REDIRECT_STATUSES.has(result.status) ? headerValue(result.headers, 'location') : undefined;
    if (location === undefined) return { url, result };
    if (hop >= deps.limits.maxRedirects) {
      throw new ForgeError('FO_SYSCALL_HTTP_TOO_MANY_REDIRECTS', `${call}: expected at most ${deps.limits.maxRedirects} redirects, found more (the last from ${host})`, {
        details: { call, limit: deps.limits.maxRedirects },
      });
    }
    const next = checkUrl(call, location, url);
    if (url.protocol === 'https:' && next.protocol === 'http:') throw badUrl(call, `a redirect from ${host} downgrades https to http`);
    // 303 always, and 301/302 after a POST, continue as a GET without a body (as browsers do).
    if ((result.status === 303 && method !== 'HEAD') || ((result.status === 301 || result.status === 302) && method === 'POST')) {
      method = 'GET';
      body = new Uint8Array(0);
      headers = headers.filter(([name]) => name.toLowerCase() !== 'content-type');
    }
    if (next.origin !== url.origin) headers = headers.filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase()));
    url = next;
  }
}

function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function timeout(call: string, host: string, timeoutMs: number): ForgeError {
  return new ForgeError('FO_SYSCALL_HTTP_TIMEOUT', `${call} to ${host} did not complete within ${timeoutMs} ms`, { details: { call, host, timeoutMs } });
}
