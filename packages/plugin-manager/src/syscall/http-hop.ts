/**
 * One HTTP exchange, run on the I/O worker: resolve the name once, check the address,
 * connect to exactly that address, send the request, collect the response under its
 * size cap. Redirects are not followed here: the calling thread decides each hop with
 * the plugin's policy gate (http-request.ts), which lives on that thread.
 *
 * SECURITY: the connection is pinned to the address that was checked. Node's `lookup`
 * option is replaced by one that returns that address, and no connection is pooled
 * (`agent: false`), so there is no second resolution a DNS-rebinding server could
 * answer differently. TLS still verifies the certificate against the host name.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ForgeError } from '@forgeone/common';
import { classifyAddress, type AddressRange } from './address.js';

/** One hop, as the calling thread asks for it. */
export interface HttpHop {
  readonly method: string;
  /** Absolute http(s) URL, already checked by the caller. */
  readonly url: string;
  /** Header name/value pairs, already checked by the caller. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  /** Time left for this hop, in ms. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** The operator granted this exact host, so non-public addresses are allowed. */
  readonly allowNonPublic: boolean;
  /** The caller follows redirects: a 3xx with Location is returned without its body. */
  readonly redirectsFollowed: boolean;
}

/** The response of one hop. */
export interface HttpHopResult {
  readonly status: number;
  /** Header names and values alternating, as received (`rawHeaders`). */
  readonly headers: readonly string[];
  readonly body: Uint8Array;
  /** The address connected to (for the host's log). */
  readonly address: string;
}

/** Statuses that redirect. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Largest response header block, in bytes (Node's parser refuses more). */
export const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

const CALL = 'forge.http_request';

function hostPortOf(url: URL): string {
  return `${url.hostname}:${url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : url.port}`;
}

/** Runs one hop. Every failure is a ForgeError with a FO_SYSCALL_HTTP_* code. */
export async function performHttpHop(hop: HttpHop): Promise<HttpHopResult> {
  const url = new URL(hop.url);
  const hostPort = hostPortOf(url);
  const signal = AbortSignal.timeout(Math.max(1, hop.timeoutMs));
  const target = await pickAddress(url.hostname, hostPort, hop.allowNonPublic, signal);
  return exchangePinned(hop, target, signal);
}

/** An address to connect to. */
export interface PinnedTarget {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves `hostname` once and picks the first address the rules allow. */
async function pickAddress(hostname: string, hostPort: string, allowNonPublic: boolean, signal: AbortSignal): Promise<PinnedTarget> {
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  let candidates: PinnedTarget[];
  if (isIP(literal) !== 0) {
    candidates = [{ address: literal, family: isIP(literal) as 4 | 6 }];
  } else {
    try {
      const found = await abortable(dnsLookup(literal, { all: true, verbatim: true }), signal);
      candidates = found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
    } catch (error) {
      throw hopError(error, hostPort, signal);
    }
  }
  let refused: { address: string; range: AddressRange } | undefined;
  for (const candidate of candidates) {
    const range = classifyAddress(candidate.address);
    if (range === undefined || allowNonPublic) return candidate;
    refused ??= { address: candidate.address, range };
  }
  if (refused === undefined) {
    throw new ForgeError('FO_SYSCALL_HTTP_FAILED', `${CALL} to ${hostPort} failed: the name resolved to no address`, { details: { call: CALL, host: hostPort, reason: 'ENODATA' } });
  }
  // SECURITY: the guest learns the kind of range, not the address, so it cannot map the
  // host's private network by resolving names through us.
  throw new ForgeError(
    'FO_SYSCALL_HTTP_PRIVATE_ADDRESS',
    `${CALL} to ${hostPort} refused: it resolves to a ${refused.range} address, which the operator has not granted for this exact host`,
    { details: { call: CALL, host: hostPort, range: refused.range, address: refused.address } },
  );
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A `lookup` that answers with the checked address only. */
function pinnedLookup(target: PinnedTarget): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as LookupFunction;
}

function headerObject(pairs: HttpHop['headers']): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const existing = headers[key];
    headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

/**
 * Sends `hop` to `target`, whatever the URL's host resolves to: the URL only names the
 * Host header, the TLS server name and the certificate identity.
 */
export function exchangePinned(hop: HttpHop, target: PinnedTarget, signal: AbortSignal): Promise<HttpHopResult> {
  const url = new URL(hop.url);
  const hostPort = hostPortOf(url);
  return new Promise<HttpHopResult>((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      request?.destroy();
      reject(hopError(error, hostPort, signal));
    };
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const options = {
      method: hop.method,
      hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: headerObject(hop.headers),
      agent: false as const,
      lookup: pinnedLookup(target),
      signal,
      maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
      ...(url.protocol === 'https:' && isIP(hostname) === 0 ? { servername: hostname } : {}),
    };
    try {
      request = url.protocol === 'https:' ? httpsRequest(options) : httpRequest(options);
    } catch (error) {
      fail(error);
      return;
    }
    request.on('error', fail);
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (hop.redirectsFollowed && REDIRECT_STATUSES.has(status) && response.headers.location !== undefined) {
        // The caller will follow it: the body is not wanted.
        settled = true;
        response.destroy();
        request?.destroy();
        resolve({ status, headers: response.rawHeaders, body: new Uint8Array(0), address: target.address });
        return;
      }
      // A HEAD answer (and 204/304) declares a length it does not send.
      const bodiless = hop.method === 'HEAD' || status === 204 || status === 304;
      const declared = Number(response.headers['content-length']);
      if (!bodiless && Number.isFinite(declared) && declared > hop.maxResponseBytes) {
        fail(tooLarge(hostPort, hop.maxResponseBytes, declared));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > hop.maxResponseBytes) fail(tooLarge(hostPort, hop.maxResponseBytes, total));
        else chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('close', () => {
        if (!response.complete) fail(Object.assign(new Error('the server closed the connection mid-response'), { code: 'ECONNRESET' }));
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        const body = new Uint8Array(total);
        let offset = 0;
        for (const chunk of chunks) {
          body.set(chunk, offset);
          offset += chunk.length;
        }
        resolve({ status, headers: response.rawHeaders, body, address: target.address });
      });
    });
    request.end(hop.body.length === 0 ? undefined : hop.body);
  });
}

function tooLarge(hostPort: string, limit: number, actual: number): ForgeError {
  return new ForgeError('FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE', `${CALL} to ${hostPort}: expected a response body of at most ${limit} bytes, found ${actual} or more`, {
    details: { call: CALL, host: hostPort, limit, actual },
  });
}

/** Maps a failure to the guest's code; a ForgeError passes through. */
function hopError(error: unknown, hostPort: string, signal: AbortSignal): ForgeError {
  if (error instanceof ForgeError) return error;
  if (signal.aborted) {
    return new ForgeError('FO_SYSCALL_HTTP_TIMEOUT', `${CALL} to ${hostPort} did not complete in time`, { details: { call: CALL, host: hostPort } });
  }
  const code = typeof (error as { code?: unknown } | undefined)?.code === 'string' ? (error as { code: string }).code : undefined;
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new ForgeError('FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE', `${CALL} to ${hostPort}: the response headers are larger than ${MAX_RESPONSE_HEADER_BYTES} bytes`, {
      details: { call: CALL, host: hostPort, limit: MAX_RESPONSE_HEADER_BYTES },
    });
  }
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  const what = FAILURES[code ?? ''] ?? 'the exchange failed';
  return new ForgeError('FO_SYSCALL_HTTP_FAILED', `${CALL} to ${hostPort} failed: ${what} (${reason})`, { details: { call: CALL, host: hostPort, reason } });
}

const FAILURES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'the name does not resolve',
  EAI_AGAIN: 'name resolution failed temporarily',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EPIPE: 'the connection was closed while sending',
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name this host",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate chain is not trusted",
};
