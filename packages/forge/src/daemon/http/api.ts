/**
 * The API server for one transport (the unix socket, or the loopback TCP listener):
 * fastify with every route of the table, schemas validated at the edge, the access
 * check and its audit record before anything is read or run, one error shape for every
 * failure, and limits on body size and request time so a slow or hostile client cannot
 * hold the daemon.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ForgeError, type Logger } from '@forgeone/common';
import { decideAccess, type AccessParts } from './access.js';
import { apiError, errorBody, statusOf } from './errors.js';
import { answerClientError, capConnections, cutArrivingOnClose, serverLimits } from './limits.js';
import type { Principal, Route } from './route.js';

/** Options of {@link buildApi}. */
export interface ApiOptions<S> {
  readonly transport: 'socket' | 'tcp';
  readonly routes: readonly Route<S>[];
  readonly services: S;
  readonly access: AccessParts;
  readonly logger: Logger;
  /** Largest request body, in bytes (daemon.max_request_size). */
  readonly maxBodyBytes: number;
  /** Longest a request may take to arrive and be answered, in ms (daemon.request_timeout). */
  readonly requestTimeoutMs: number;
  /** Connections held open at once (daemon.max_connections); more are closed when accepted. */
  readonly maxConnections: number;
  /** True once the daemon stops taking requests. */
  readonly draining: () => boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The route a request was matched to (undefined for unknown routes). */
function routeOf<S>(request: FastifyRequest): Route<S> | undefined {
  return (request.routeOptions.config as { route?: Route<S> } | undefined)?.route;
}

/** Builds the server; the caller listens. */
export function buildApi<S>(options: ApiOptions<S>): FastifyInstance {
  const limits = { requestTimeoutMs: options.requestTimeoutMs, maxConnections: options.maxConnections };
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    ...serverLimits(limits),
    clientErrorHandler: (error, socket) => answerClientError(error, socket, limits, options.logger),
    // The router's own refusals (a bad escape, a path segment over 100 characters) get the one error body too.
    frameworkErrors: (error, request, reply) => refuse(error, request, reply, options.logger),
    // Request ids are recorded in the audit log: make them unique across restarts.
    genReqId: () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });

  capConnections(app.server, limits, options.logger, options.transport);
  cutArrivingOnClose(app);

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request) => {
    if (options.draining()) throw new ForgeError('FO_DAEMON_SHUTTING_DOWN', 'the daemon is stopping and takes no new requests');
    const route = routeOf<S>(request);
    if (route === undefined) return;
    request.principal = decideAccess(request, route, options.transport, options.access);
    // SECURITY: write-ahead audit. A change runs only once its allow record is on disk, so a
    // daemon killed at any moment after (even right after answering) leaves the record;
    // the log's group commit alone kept records up to 10 ms in memory, and a SIGKILL lost
    // them. Concurrent requests share one write and sync. A log that cannot write refuses.
    const audit = options.access.audit;
    if (route.mutates && audit?.shouldRecord('decision') === true) await audit.flush();
  });

  app.setErrorHandler((error, request, reply) => refuse(error, request, reply, options.logger));

  app.setNotFoundHandler((request, reply) => {
    const refusal = new ForgeError('FO_DAEMON_NO_ROUTE', `no API operation is ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}`);
    closeIfUnread(request, reply);
    void reply.status(statusOf(refusal)).type('application/json').send(errorBody(refusal));
  });

  for (const route of options.routes) {
    app.route({
      method: route.method,
      url: route.url,
      config: { route },
      ...(route.maxBodyBytes === undefined ? {} : { bodyLimit: Math.min(route.maxBodyBytes, options.maxBodyBytes) }),
      schema: {
        ...(route.params === undefined ? {} : { params: route.params }),
        ...(route.query === undefined ? {} : { querystring: route.query }),
        ...(route.body === undefined || route.body === 'binary' ? {} : { body: route.body }),
      },
      handler: async (request: FastifyRequest, reply: FastifyReply) => serve(route, request, reply, options),
    });
  }
  return app;
}

/** Answers `error` with the daemon's error body and the status of its code. */
function refuse(error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const refusal = apiError(error, logger);
  closeIfUnread(request, reply);
  void reply.status(statusOf(refusal)).type('application/json').send(errorBody(refusal));
}

/**
 * A request refused before its body was read (no token, a role too low, a body too
 * large) closes its connection: otherwise Node would read and discard the rest of the
 * body to keep the connection alive, up to a gigabyte for one unauthenticated client.
 */
function closeIfUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) void reply.header('connection', 'close');
}

async function serve<S>(route: Route<S>, request: FastifyRequest, reply: FastifyReply, options: ApiOptions<S>): Promise<unknown> {
  const principal = request.principal;
  if (principal === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', 'an API request reached its handler without an access decision');
  let body: unknown = request.body;
  if (route.body === 'binary') {
    // No body at all is an empty input; a body of another type was parsed as something else.
    if (body === undefined || body === null) body = Buffer.alloc(0);
    else if (!(body instanceof Buffer)) throw new ForgeError('FO_DAEMON_UNSUPPORTED_MEDIA', `${route.operation} takes its body as application/octet-stream`);
  }
  const result = await route.handler({
    params: request.params as Record<string, string>,
    query: (request.query ?? {}) as Record<string, unknown>,
    body,
    principal,
    services: options.services,
    request,
    reply,
  });
  if (reply.sent) return reply;
  const { status, content } = route.response;
  void reply.status(status);
  if (content === 'none') return reply.send();
  if (content === 'binary') return reply.type('application/octet-stream').send(result);
  if (content === 'html') return reply.type('text/html; charset=utf-8').send(result);
  return reply.type('application/json').send(result);
}
