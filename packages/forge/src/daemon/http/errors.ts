/**
 * Every failure of an API request becomes one JSON body, `{ "error": { code, kind,
 * message, details } }`, with the HTTP status of its error kind (docs/reference/errors.md),
 * whoever raised it: a handler's ForgeError, fastify refusing a body or a schema, an
 * unknown route. Nothing else (no stack, no host path of an internal error) leaves the
 * daemon; internal failures are logged with their cause.
 */
import { ForgeError, HTTP_STATUS, toForgeError, type Logger } from '@forgeone/common';

/** Statuses more precise than the kind's, for failures of the HTTP exchange itself. */
const STATUS_OVERRIDES: Readonly<Partial<Record<string, number>>> = {
  FO_DAEMON_BODY_TOO_LARGE: 413,
  FO_DAEMON_UNSUPPORTED_MEDIA: 415,
  FO_DAEMON_TIMEOUT: 408,
  FO_DAEMON_HEADERS_TOO_LARGE: 431,
};

/** The HTTP status for `error`. */
export function statusOf(error: ForgeError): number {
  return STATUS_OVERRIDES[error.code] ?? HTTP_STATUS[error.kind];
}

interface FastifyLikeError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly message: string;
  readonly validation?: readonly { readonly instancePath?: string; readonly message?: string; readonly params?: unknown }[];
  readonly validationContext?: string;
}

/**
 * The ForgeError for anything thrown while serving a request: ForgeErrors pass through;
 * fastify's own refusals map to FO_DAEMON_* codes; the rest is FO_INTERNAL_UNEXPECTED.
 */
export function apiError(error: unknown, logger: Logger): ForgeError {
  if (error instanceof ForgeError) {
    if (error.kind === 'internal') logger.error('API request failed inside the daemon', { code: error.code, error: error.message });
    return error;
  }
  const fastify = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  if (fastify.validation !== undefined) {
    const where = fastify.validationContext ?? 'request';
    const issues = fastify.validation.map((issue) => `${where}${issue.instancePath ?? ''}: ${issue.message ?? 'is invalid'}`);
    return new ForgeError('FO_DAEMON_BAD_REQUEST', `the request does not match the operation's schema: ${issues.join('; ')}`, { details: { issues } });
  }
  switch (fastify.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ForgeError('FO_DAEMON_BODY_TOO_LARGE', 'the request body is larger than daemon.max_request_size');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ForgeError('FO_DAEMON_UNSUPPORTED_MEDIA', `the request body has a content type this operation does not take: ${fastify.message}`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ForgeError('FO_DAEMON_BAD_REQUEST', `the request body cannot be read: ${fastify.message}`);
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new ForgeError('FO_DAEMON_BAD_REQUEST', `the request cannot be routed: ${fastify.message.slice(0, 300)}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ForgeError('FO_DAEMON_BAD_REQUEST', 'the request cannot be routed: expected path segments of at most 100 characters, found a longer one');
    case undefined:
    default:
      break;
  }
  if (fastify.statusCode !== undefined && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return new ForgeError('FO_DAEMON_BAD_REQUEST', fastify.message);
  }
  const wrapped = toForgeError(error);
  logger.error('API request failed inside the daemon', { code: wrapped.code, error: wrapped.message });
  // SECURITY: an unexpected failure's message may name host internals; the client gets a generic one.
  return new ForgeError('FO_INTERNAL_UNEXPECTED', 'the daemon failed unexpectedly while serving the request; its log has the details');
}

/** The body of a failed request. */
export function errorBody(error: ForgeError): { error: ReturnType<ForgeError['toJSON']> } {
  return { error: error.toJSON() };
}
