/**
 * The dashboard's API client. Every request carries the token as
 * `Authorization: Bearer ...`, the only place the token ever goes: never a query
 * string (it would reach logs and history), never a cookie (the API takes none, so no
 * other site can make the browser act with it). A refusal comes back as an
 * {@link ApiError} with the daemon's code and message.
 */
import { record } from './types.js';

/** A failed request: the daemon's error code and message, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** True when the daemon has no such operation (a dashboard newer than the daemon): the panel says "not available". */
export function isMissing(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && (error.code === 'FO_DAEMON_NO_ROUTE' || error.code === 'HTTP_404');
}

/** The text of a failure, for a panel: `CODE: message`. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Reads the daemon's error body (`{ error: { code, message } }`), or makes one from the status. */
async function failure(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = response.headers.get('content-type')?.startsWith('application/json') === true ? ((await response.json()) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  const error = record(record(body)['error']);
  const code = typeof error['code'] === 'string' ? error['code'] : `HTTP_${response.status}`;
  const message = typeof error['message'] === 'string' ? error['message'] : `the daemon answered ${response.status} ${response.statusText}`;
  return new ApiError(response.status, code, message);
}

/** The API as one token sees it. */
export class Api {
  readonly #token: string;
  readonly #onUnauthenticated: (error: ApiError) => void;

  /**
   * @param token the bearer token
   * @param onUnauthenticated called when the daemon refuses the token (revoked, expired): the page logs out
   */
  constructor(token: string, onUnauthenticated: (error: ApiError) => void = () => undefined) {
    this.#token = token;
    this.#onUnauthenticated = onUnauthenticated;
  }

  /**
   * Sends a request; resolves with the successful response (its body unread).
   * @throws ApiError the daemon's refusal, or status 0 when it cannot be reached
   */
  async send(method: 'GET' | 'POST' | 'DELETE', path: string, accept = 'application/json', signal?: AbortSignal, json?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, accept, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
        referrerPolicy: 'no-referrer',
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      throw new ApiError(0, 'UNREACHABLE', `the daemon did not answer (${error instanceof Error ? error.message : String(error)})`);
    }
    if (response.ok) return response;
    const refusal = await failure(response);
    if (refusal.status === 401) this.#onUnauthenticated(refusal);
    throw refusal;
  }

  /** GETs JSON. @throws ApiError */
  async get(path: string, signal?: AbortSignal): Promise<unknown> {
    return (await (await this.send('GET', path, 'application/json', signal)).json()) as unknown;
  }

  /** POSTs without a body and reads the JSON answer. @throws ApiError */
  async post(path: string): Promise<unknown> {
    return (await (await this.send('POST', path)).json()) as unknown;
  }

  /** POSTs a JSON body and reads the JSON answer. @throws ApiError */
  async postJson(path: string, json: unknown): Promise<unknown> {
    return (await (await this.send('POST', path, 'application/json', undefined, json)).json()) as unknown;
  }

  /** DELETEs; the answer (JSON or none) is discarded. @throws ApiError */
  async delete(path: string): Promise<void> {
    await (await this.send('DELETE', path)).arrayBuffer();
  }
}
