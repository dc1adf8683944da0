/**
 * How the OCI client's requests reach the network: one exchange at a time, redirects
 * never followed here (the client follows them itself, hop by hop, see {@link redirectTarget}).
 *
 * Two transports: {@link fetchTransport}, the global fetch (the name is resolved by the
 * system at each connection), and {@link pinnedTransport}, node:http(s) connecting only
 * to the addresses a {@link ConnectionGuard} answers for each URL. SECURITY: the daemon
 * pulls with the pinned one: its guard resolves a host once per pull, checks the
 * addresses, and the connection goes to exactly those (a `lookup` that answers them, no
 * pooled connection), so a DNS server answering a public address to the check and
 * 127.0.0.1 to the connection (rebinding) gets nowhere. The URL still names the Host
 * header, the TLS server name (SNI) and the identity the certificate must prove.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { ForgeError } from '@forgeone/common';

/** One address a connection may go to. */
export interface PinnedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Decides, for each URL the client is about to request (the registry's, a Bearer realm,
 * a redirect target), whether it may connect there and to which addresses. Throws (a
 * ForgeError with the caller's code) to refuse; nothing is sent then.
 */
export type ConnectionGuard = (url: URL) => Promise<readonly PinnedAddress[]>;

/** One request as a transport sends it. */
export interface TransportRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Aborts the exchange, answer body included. */
  readonly signal: AbortSignal;
}

/** Sends one request to `url` and answers its response, a redirect included (not followed). */
export type Transport = (url: URL, request: TransportRequest) => Promise<Response>;

/** Statuses that redirect. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Statuses whose Response has no body (the Response constructor refuses one). */
const NULL_BODY: ReadonlySet<number> = new Set([204, 205, 304]);

/** Largest response header block, in bytes. */
const MAX_HEADER_BYTES = 64 * 1024;

/** The global fetch, redirects returned to the caller. */
export const fetchTransport: Transport = (url, request) =>
  fetch(url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    redirect: 'manual',
    signal: request.signal,
  });

/** A `lookup` that answers the pinned addresses only, whatever name it is asked. */
function pinnedLookup(addresses: readonly PinnedAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all === true) callback(null, addresses.map((entry) => ({ address: entry.address, family: entry.family })));
    else callback(null, addresses[0]?.address, addresses[0]?.family);
  }) as LookupFunction;
}

/** The Response for a node:http answer; its body streams from the socket. */
function toResponse(response: IncomingMessage, method: string, signal: AbortSignal): Response {
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 599) {
    response.destroy();
    throw new ForgeError('FO_OCI_PROTOCOL', `expected an HTTP status between 200 and 599, found ${status}`, { details: { status } });
  }
  const headers = new Headers();
  for (let at = 0; at + 1 < response.rawHeaders.length; at += 2) headers.append(response.rawHeaders[at] ?? '', response.rawHeaders[at + 1] ?? '');
  if (method === 'HEAD' || NULL_BODY.has(status)) {
    response.resume();
    return new Response(null, { status, headers });
  }
  // A timeout while the body streams fails the read as fetch's would (TimeoutError), not as a dropped connection.
  const abort = (): void => void response.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', abort, { once: true });
  response.once('close', () => signal.removeEventListener('abort', abort));
  return new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, { status, statusText: response.statusMessage ?? '', headers });
}

/**
 * node:http(s) connecting only where `guard` says (see the module comment).
 * @param tls `ca`: the certificates trusted instead of the system's (PEM; tests with a private CA). Default: the system's.
 */
export function pinnedTransport(guard: ConnectionGuard, tls: { readonly ca?: string } = {}): Transport {
  return async (url, request) => {
    const addresses = await guard(url);
    if (addresses.length === 0) throw new ForgeError('FO_OCI_UNREACHABLE', `${url.origin}: expected an address to connect to, found none`, { details: { url: url.origin, errno: 'ENODATA' } });
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const https = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      const options = {
        method: request.method,
        hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: `${url.pathname}${url.search}`,
        headers: { ...request.headers, host: url.host },
        // SECURITY: no pooled connection (one opened for another name could be reused) and no second resolution.
        agent: false as const,
        lookup: pinnedLookup(addresses),
        signal: request.signal,
        maxHeaderSize: MAX_HEADER_BYTES,
        ...(https && isIP(hostname) === 0 ? { servername: hostname } : {}),
        ...(https && tls.ca !== undefined ? { ca: tls.ca } : {}),
      };
      const outgoing = https ? httpsRequest(options) : httpRequest(options);
      // Not once: an error after the answer (an abort mid-body) must find a listener too; the body stream reports it.
      outgoing.on('error', reject);
      outgoing.once('response', (response: IncomingMessage) => {
        try {
          resolve(toResponse(response, request.method, request.signal));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      outgoing.end(request.body === undefined ? undefined : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength));
    });
  };
}

/** Where a redirect goes, and what of the request goes along. */
export interface RedirectHop {
  readonly url: URL;
  /** 303 (and 301/302 after a POST) turn the request into a GET without a body, as fetch does. */
  readonly method: string;
  readonly dropBody: boolean;
  /** The target is of another origin: the registry's credentials stay behind. */
  readonly crossOrigin: boolean;
}

/**
 * The next hop for a response of `from`, or undefined when it is not a redirect.
 * SECURITY: a redirect from https to http is refused (it would send the request, and
 * what the answer is trusted for, in the clear); the caller drops `authorization` when
 * the target is of another origin.
 * @throws ForgeError FO_OCI_PROTOCOL on a downgrade to http, a Location that is not an http(s) URL
 */
export function redirectTarget(from: URL, status: number, location: string | null, method: string): RedirectHop | undefined {
  if (!REDIRECTS.has(status) || location === null) return undefined;
  let url: URL;
  try {
    url = new URL(location, from);
  } catch (error) {
    throw new ForgeError('FO_OCI_PROTOCOL', `${from.origin}: expected a redirect to a URL, found ${JSON.stringify(location.slice(0, 200))}`, { details: { url: from.origin }, cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ForgeError('FO_OCI_PROTOCOL', `${from.origin}: expected a redirect to an http(s) URL, found ${url.protocol}`, { details: { url: from.origin, location: url.origin } });
  }
  if (from.protocol === 'https:' && url.protocol === 'http:') {
    throw new ForgeError('FO_OCI_PROTOCOL', `${from.origin}: expected a redirect to stay on https, found one to ${url.origin}`, { details: { url: from.origin, location: url.origin } });
  }
  const toGet = (status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST');
  return { url, method: toGet ? 'GET' : method, dropBody: toGet, crossOrigin: url.origin !== from.origin };
}
