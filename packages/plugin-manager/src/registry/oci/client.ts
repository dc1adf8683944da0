/**
 * The HTTP side of the distribution API: one registry, fetch-based, with the
 * authentication dance (Basic, Bearer tokens cached per scope), retries with
 * exponential backoff on 5xx and dropped or refused connections, a timeout on every
 * request, and a size cap on every body read. SECURITY: a hostile registry decides
 * what it sends; nothing here reads more than the caller's cap or trusts a length it
 * announces. Redirects are followed here, hop by hop (transport.ts): never from https
 * to http, the credentials never to another origin, and with a `guard` every hop (and
 * every token realm) is connected to only where the guard allows.
 */
import { ForgeError } from '@forgeone/common';
import { basicAuthorization, parseChallenge, type Challenge, type Credentials } from './auth.js';
import { isRetryable, statusError, transportError } from './http-errors.js';
import { isLoopbackHost } from './reference.js';
import { fetchTransport, pinnedTransport, redirectTarget, type ConnectionGuard, type Transport } from './transport.js';

/** How a client talks to one registry. */
export interface OciClientOptions {
  /** `host[:port]` of the registry. `docker.io` means `registry-1.docker.io`. */
  readonly registry: string;
  /** Use http:// instead of https://. Default: true for loopback hosts only. */
  readonly plainHttp?: boolean;
  /** Credentials for Basic, or for fetching Bearer tokens. Default: anonymous. */
  readonly credentials?: Credentials;
  /** Further attempts after a retryable failure. Default 3. */
  readonly retries?: number;
  /** First backoff delay in milliseconds, doubled at each retry. Default 100. */
  readonly backoffMs?: number;
  /** Timeout of one request, answer body included, in milliseconds. Default 60000. */
  readonly timeoutMs?: number;
  /**
   * Where connections may go: when given, every request (the registry's, a token realm's,
   * each redirect hop's) asks it first and connects to the addresses it answers, never
   * resolving the name again (the daemon's pulls: DNS pinning and its pull policy).
   * Default: none, the global fetch, the system resolver at each connection (the CLI).
   */
  readonly guard?: ConnectionGuard;
}

/** One request. */
export interface OciRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH';
  /** A path starting with `/v2/`, or an absolute URL on the registry (a Location). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** The token scope, e.g. `repository:hello:pull`. */
  readonly scope: string;
  /** What is asked, for messages ("blob sha256:..."). */
  readonly what: string;
  /** Statuses that are answers, not failures. Default: 2xx. */
  readonly accept?: readonly number[];
}

/** Largest token answer read, in bytes. */
const MAX_TOKEN_ANSWER = 64 * 1024;
/** Largest error body read to quote the registry's message, in bytes. */
const MAX_ERROR_BODY = 16 * 1024;
/** Most redirects followed for one request (fetch's limit is 20; a registry needs one or two). */
const MAX_REDIRECTS = 10;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Reads a body to its end or throws FO_OCI_TOO_LARGE as soon as it passes `limit`
 * bytes (the stream is cancelled, the rest never read). `onChunk` sees each chunk.
 * @throws ForgeError FO_OCI_TOO_LARGE, FO_OCI_CONNECTION_DROPPED, FO_OCI_UNREACHABLE (timeout)
 */
export async function readCapped(response: Response, limit: number, what: string, onChunk?: (chunk: Uint8Array) => void): Promise<Buffer> {
  const announced = Number(response.headers.get('content-length') ?? '0');
  if (announced > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new ForgeError('FO_OCI_TOO_LARGE', `${what}: expected at most ${limit} bytes, the registry announces ${announced}`, { details: { limit, actual: announced } });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (response.body === null) return Buffer.alloc(0);
  // With a length announced (within the limit), the body is read into one buffer of that
  // size (allocated, not touched, so an announcement the body does not keep costs no memory)
  // instead of chunks joined at the end: one 1 MiB copy and temporary less per layer.
  let into: Buffer | undefined = Number.isSafeInteger(announced) && announced > 0 ? Buffer.allocUnsafe(announced) : undefined;
  const reader = response.body.getReader();
  try {
    for (;;) {
      // undici types the chunks as any; they are Uint8Array for a byte stream.
      const { done, value } = (await reader.read()) as { done: boolean; value: Uint8Array | undefined };
      if (done || value === undefined) break;
      if (total + value.byteLength > limit) {
        await reader.cancel().catch(() => undefined);
        throw new ForgeError('FO_OCI_TOO_LARGE', `${what}: expected at most ${limit} bytes, the registry sent more; reading stopped there`, { details: { limit, actual: total + value.byteLength } });
      }
      onChunk?.(value);
      if (into !== undefined && total + value.byteLength > into.length) {
        // More than announced: the chunks are joined after all.
        chunks.push(into.subarray(0, total));
        into = undefined;
      }
      if (into === undefined) chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      else into.set(value, total);
      total += value.byteLength;
    }
  } catch (error) {
    throw transportError(error, what, true);
  } finally {
    reader.releaseLock();
  }
  return into === undefined ? Buffer.concat(chunks, total) : into.subarray(0, total);
}

/** A client of one registry. Safe to share between sequential operations. */
export class OciClient {
  readonly registry: string;
  readonly #base: string;
  readonly #options: OciClientOptions;
  readonly #tokens = new Map<string, { value: string; expires: number }>();
  readonly #transport: Transport;
  #basic = false;

  constructor(options: OciClientOptions) {
    this.#options = options;
    this.#transport = options.guard === undefined ? fetchTransport : pinnedTransport(options.guard);
    this.registry = options.registry === 'docker.io' ? 'registry-1.docker.io' : options.registry;
    const plain = options.plainHttp ?? isLoopbackHost(this.registry);
    this.#base = `${plain ? 'http' : 'https'}://${this.registry}`;
  }

  /** Further attempts after a retryable failure (see {@link OciClientOptions.retries}). */
  get retries(): number {
    return this.#options.retries ?? 3;
  }

  /** The base URL, `http(s)://host[:port]`. */
  get base(): string {
    return this.#base;
  }

  #url(path: string): string {
    if (path.startsWith('/')) return `${this.#base}${path}`;
    // SECURITY: a Location may be absolute; it must stay on this registry so that
    // credentials and blobs never go to a host the operator did not name.
    const url = new URL(path, this.#base);
    if (url.origin !== new URL(this.#base).origin) {
      throw new ForgeError('FO_OCI_PROTOCOL', `expected an upload location on ${this.#base}, found ${url.origin}`, { details: { location: path } });
    }
    return url.toString();
  }

  #authorization(scope: string): string | undefined {
    const token = this.#tokens.get(scope);
    if (token !== undefined && token.expires > Date.now()) return `Bearer ${token.value}`;
    if (this.#basic && this.#options.credentials !== undefined) return basicAuthorization(this.#options.credentials);
    return undefined;
  }

  /** Answers a 401's challenge; false when there is nothing more to try. */
  async #authenticate(challenge: Challenge | undefined, scope: string): Promise<boolean> {
    if (challenge?.scheme === 'basic') {
      if (this.#options.credentials === undefined || this.#basic) return false;
      this.#basic = true;
      return true;
    }
    if (challenge?.scheme !== 'bearer') return false;
    // A cached token the registry refuses (expired early, revoked) is fetched once more.
    this.#tokens.delete(scope);
    const realm = challenge.params['realm'];
    if (realm === undefined) throw new ForgeError('FO_OCI_PROTOCOL', `${this.#base}: a Bearer challenge without a realm`, { details: { registry: this.registry } });
    const url = new URL(realm);
    // SECURITY: a Bearer realm receives the password; over plain http only when the registry itself is.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.#base.startsWith('http:'))) {
      throw new ForgeError('FO_OCI_PROTOCOL', `${this.#base}: expected an https token realm, found ${url.protocol}`, { details: { realm } });
    }
    if (challenge.params['service'] !== undefined) url.searchParams.set('service', challenge.params['service']);
    for (const part of scope.split(' ').filter((entry) => entry !== '')) url.searchParams.append('scope', part);
    const headers: Record<string, string> = {};
    if (this.#options.credentials !== undefined) headers['authorization'] = basicAuthorization(this.#options.credentials);
    const response = await this.#fetch(url.toString(), { method: 'GET', headers }, 'token');
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      throw statusError(response.status, `token for ${scope}`, url.origin, '');
    }
    const body = await readCapped(response, MAX_TOKEN_ANSWER, `token for ${scope}`);
    if (!response.ok) throw statusError(response.status, `token for ${scope}`, url.origin, body.toString('utf8'));
    let answer: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(body.toString('utf8')) as typeof answer;
    } catch (error) {
      throw new ForgeError('FO_OCI_PROTOCOL', `token for ${scope}: expected JSON, found something else`, { details: { realm }, cause: error });
    }
    const value = typeof answer.token === 'string' ? answer.token : answer.access_token;
    if (typeof value !== 'string' || value === '') throw new ForgeError('FO_OCI_PROTOCOL', `token for ${scope}: expected a "token" field`, { details: { realm } });
    const lifetime = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 60;
    // Renew 10 seconds early so a token never expires between check and use.
    this.#tokens.set(scope, { value, expires: Date.now() + Math.max(lifetime - 10, 1) * 1000 });
    return true;
  }

  /**
   * One request and the redirects it meets, each hop through the transport (and its guard).
   * @throws ForgeError FO_OCI_PROTOCOL (a downgrade to http, too many redirects), the guard's refusal, transport errors
   */
  async #follow(url: string, init: { method: string; headers: Record<string, string>; body?: Uint8Array }, signal: AbortSignal): Promise<Response> {
    let target = new URL(url);
    let { method, headers, body } = init;
    for (let hops = 0; ; hops += 1) {
      const response = await this.#transport(target, { method, headers, ...(body === undefined ? {} : { body }), signal });
      const next = redirectTarget(target, response.status, response.headers.get('location'), method);
      if (next === undefined) return response;
      await response.body?.cancel().catch(() => undefined);
      if (hops >= MAX_REDIRECTS) throw new ForgeError('FO_OCI_PROTOCOL', `${url}: expected an answer, found more than ${MAX_REDIRECTS} redirects`, { details: { url, limit: MAX_REDIRECTS } });
      if (next.crossOrigin) {
        // SECURITY: the registry's password or token is for the registry: a blob store elsewhere gets none.
        headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
      }
      if (next.dropBody) body = undefined;
      method = next.method;
      target = next.url;
    }
  }

  /** One request (redirects followed) with retries on transport failures and 5xx. */
  async #fetch(url: string, init: { method: string; headers: Record<string, string>; body?: Uint8Array }, what: string): Promise<Response> {
    const retries = this.retries;
    for (let attempt = 0; ; attempt += 1) {
      let failure: ForgeError;
      try {
        const response = await this.#follow(url, init, AbortSignal.timeout(this.#options.timeoutMs ?? 60_000));
        if (response.status < 500) return response;
        const body = await readCapped(response, MAX_ERROR_BODY, what).catch(() => Buffer.alloc(0));
        failure = statusError(response.status, what, url, body.toString('utf8'));
      } catch (error) {
        failure = transportError(error, url, false);
      }
      if (!isRetryable(failure) || attempt >= retries) throw failure;
      await sleep((this.#options.backoffMs ?? 100) * 2 ** attempt);
    }
  }

  /**
   * Sends `request`, answering an auth challenge once. The answer's body is unread.
   * @throws ForgeError FO_OCI_UNAUTHORIZED, FO_OCI_NOT_FOUND, FO_OCI_SERVER_ERROR, FO_OCI_UNREACHABLE,
   *   FO_OCI_CONNECTION_DROPPED, FO_OCI_PROTOCOL
   */
  async send(request: OciRequest): Promise<Response> {
    const url = this.#url(request.path);
    for (let round = 0; ; round += 1) {
      const headers: Record<string, string> = { ...request.headers };
      const authorization = this.#authorization(request.scope);
      if (authorization !== undefined) headers['authorization'] = authorization;
      const response = await this.#fetch(url, { method: request.method, headers, ...(request.body === undefined ? {} : { body: request.body }) }, request.what);
      const accepted = request.accept === undefined ? response.status >= 200 && response.status < 300 : request.accept.includes(response.status);
      if (accepted) return response;
      const body = request.method === 'HEAD' ? Buffer.alloc(0) : await readCapped(response, MAX_ERROR_BODY, request.what).catch(() => Buffer.alloc(0));
      if (response.status === 401 && round === 0) {
        const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
        if (await this.#authenticate(challenge, request.scope)) continue;
      }
      throw statusError(response.status, request.what, url, body.toString('utf8'));
    }
  }
}
