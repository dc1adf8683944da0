/**
 * A client of the daemon's API, over its unix socket or its TCP listener: what the CLI
 * uses when a daemon runs, and what the tests drive it with. A failed request comes
 * back as the ForgeError the daemon sent (code, message, details), so callers handle
 * a daemon's refusal exactly as a local one.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { ForgeError } from '@forgeone/common';

/** Where the daemon is. */
export type DaemonTarget = { readonly socket: string; readonly token?: string } | { readonly url: string; readonly token?: string };

/** One request. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, e.g. `/v1/plugins?start=true`. */
  readonly path: string;
  /** A JSON body (serialised), or raw bytes sent as application/octet-stream. */
  readonly json?: unknown;
  readonly bytes?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Give up after this long, in ms (default 120 s). */
  readonly timeoutMs?: number;
}

/** A response. */
export interface ApiResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Sends one request and reads the whole response.
 * @throws ForgeError FO_DAEMON_NOT_RUNNING (nothing listens), FO_DAEMON_UNREACHABLE (the
 *   exchange broke off)
 */
export function send(target: DaemonTarget, request: ApiRequest): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = request.bytes !== undefined ? Buffer.from(request.bytes) : request.json !== undefined ? Buffer.from(JSON.stringify(request.json)) : undefined;
    const headers: Record<string, string> = { ...request.headers };
    if (target.token !== undefined) headers['authorization'] = `Bearer ${target.token}`;
    if (payload !== undefined) {
      headers['content-type'] ??= request.bytes !== undefined ? 'application/octet-stream' : 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const url = 'socket' in target ? new URL(`http://forge${request.path}`) : new URL(request.path, target.url);
    const outgoing = httpRequest(
      {
        method: request.method,
        ...('socket' in target ? { socketPath: target.socket } : { hostname: url.hostname, port: url.port }),
        path: `${url.pathname}${url.search}`,
        headers,
        timeout: request.timeoutMs ?? 120_000,
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        response.on('error', (error) => reject(unreachable(error)));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${request.timeoutMs ?? 120_000} ms`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new ForgeError('FO_DAEMON_NOT_RUNNING', `no daemon answers at ${'socket' in target ? target.socket : target.url}; start one with forge daemon`, { details: { reason: error.code } }));
      } else reject(unreachable(error));
    });
    outgoing.end(payload);
  });
}

function unreachable(error: Error): ForgeError {
  return new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon did not complete the request: ${error.message}`, { details: { reason: error.message } });
}

/**
 * The ForgeError a failed response carries (its `error` body), or undefined for a success.
 * A body that is not the daemon's error shape is FO_DAEMON_UNREACHABLE.
 */
export function failureOf(response: ApiResponse): ForgeError | undefined {
  if (response.status < 400) return undefined;
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { error?: unknown };
    if (typeof parsed.error === 'object' && parsed.error !== null) return ForgeError.fromJSON(parsed.error);
  } catch {
    // not JSON: fall through
  }
  return new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon answered ${response.status} without an error body`, { details: { status: response.status } });
}

/**
 * Sends a request and returns its JSON answer.
 * @throws ForgeError the daemon's refusal, or the codes of {@link send}
 */
export async function call<T>(target: DaemonTarget, request: ApiRequest): Promise<T> {
  const response = await send(target, request);
  const failure = failureOf(response);
  if (failure !== undefined) throw failure;
  return (response.body.length === 0 ? undefined : JSON.parse(response.body.toString('utf8'))) as T;
}
