/**
 * How transport failures and registry statuses become FO_OCI_* errors, and which of
 * them are worth another attempt. Kept apart from the client so the mapping reads as
 * one table.
 */
import { ForgeError, describeValue } from '@forgeone/common';

/** Socket-level error codes that mean "the connection went away": worth a retry. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

/** The innermost `code` of an error chain (undici wraps socket errors in `cause`). */
function errnoOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The ForgeError for a failed fetch or body read. `started` says whether an answer had
 * begun to arrive (then a dropped socket is a dropped connection, not an unreachable host).
 */
export function transportError(error: unknown, url: string, started: boolean): ForgeError {
  if (error instanceof ForgeError) return error;
  const errno = errnoOf(error);
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ForgeError('FO_OCI_UNREACHABLE', `${url}: expected an answer, found none before the timeout`, { details: { url, errno: 'timeout' }, cause: error });
  }
  if (started || (errno !== undefined && DROPPED.has(errno)) || String((error as Error).message) === 'terminated') {
    return new ForgeError('FO_OCI_CONNECTION_DROPPED', `${url}: the registry closed the connection in the middle of its answer (${errno ?? 'terminated'})`, {
      details: { url, errno: errno ?? 'terminated' },
      cause: error,
    });
  }
  return new ForgeError('FO_OCI_UNREACHABLE', `${url}: expected a registry, found none reachable (${errno ?? (error as Error).message})`, {
    details: { url, errno: errno ?? 'unknown' },
    cause: error,
  });
}

/** True for failures another attempt may cure. */
export function isRetryable(error: ForgeError): boolean {
  return error.code === 'FO_OCI_CONNECTION_DROPPED' || error.code === 'FO_OCI_SERVER_ERROR' || (error.code === 'FO_OCI_UNREACHABLE' && error.details['errno'] !== 'ENOTFOUND');
}

/** The registry's own error message, from an `{"errors":[{"code","message"}]}` body, shortened and quoted. */
function registryMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    if (first !== undefined) return `: ${describeValue(`${String(first.code)} ${String(first.message)}`.slice(0, 200))}`;
  } catch {
    // Not JSON: the status alone says enough.
  }
  return '';
}

/**
 * The ForgeError for an unexpected status. `what` says what was asked ("manifest
 * hello:1.0.0").
 */
export function statusError(status: number, what: string, url: string, body: string): ForgeError {
  const details = { url, status };
  const said = registryMessage(body);
  if (status === 401 || status === 403) {
    return new ForgeError('FO_OCI_UNAUTHORIZED', `${what}: the registry refused access (HTTP ${status})${said}; run forge login for it`, { details });
  }
  if (status === 404) return new ForgeError('FO_OCI_NOT_FOUND', `${what}: the registry has none (HTTP 404)${said}`, { details });
  if (status >= 500) return new ForgeError('FO_OCI_SERVER_ERROR', `${what}: the registry failed (HTTP ${status})${said}`, { details });
  return new ForgeError('FO_OCI_PROTOCOL', `${what}: expected a success status, found HTTP ${status}${said}`, { details });
}
