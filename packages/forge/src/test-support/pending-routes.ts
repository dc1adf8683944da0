/**
 * Stand-ins for the API operations docs DAEMON.md lists as being built (logs, events,
 * audit, tokens, stats) for the CLI's tests, built to the documented shapes from the
 * daemon's own parts (its log buffers, registry events, audit log, token table, plugins).
 *
 * Each stand-in is served only when the daemon's table has no operation with its method
 * and URL: once the real operation exists, the same tests drive it instead. Deliberately
 * small: the lifecycle and audit event types are not produced, follow streams have no
 * keep-alive or overflow, the audit log is verified without checkpoint keys, and the
 * figures of /v1/stats are those of plugins that were never called.
 */
import { ForgeError, parseDuration } from '@forgeone/common';
import { readAuditTail, verifyAuditLog, type AuditLog } from '@forgeone/microkernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PLUGIN_NAME_PARAMS, route, type Route } from '../daemon/http/route.js';
import { DAEMON_ROUTES, type DaemonServices } from '../daemon/routes/index.js';
import type { Role } from '../daemon/tokens.js';

/** Opens a streamed answer that ends when the client goes away; `stop` runs then. */
function stream(request: FastifyRequest, reply: FastifyReply, contentType: string): { write(text: string): void; end(): void; onClose(stop: () => void): void } {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  reply.raw.flushHeaders();
  return {
    write: (text) => void reply.raw.write(text),
    end: () => reply.raw.end(),
    onClose: (stop) => request.raw.on('close', stop),
  };
}

/** The daemon's audit log, flushed so a reader sees every record. */
async function auditLog(services: DaemonServices): Promise<AuditLog> {
  if (services.audit === undefined) throw new ForgeError('FO_AUDIT_LOG_NOT_FOUND', 'the daemon keeps no audit log (security.audit_logging is off)');
  await services.audit.flush();
  return services.audit;
}

/** The stand-ins, less those the daemon serves itself. */
export function pendingRoutes(): Route<DaemonServices>[] {
  const all: Route<DaemonServices>[] = [
    route<DaemonServices>({
      operation: 'plugins.logs',
      method: 'GET',
      url: '/v1/plugins/:name/logs',
      summary: 'stand-in',
      role: 'viewer',
      mutates: false,
      params: PLUGIN_NAME_PARAMS,
      query: { type: 'object', properties: { limit: { type: 'integer', minimum: 0, maximum: 10_000, default: 100 }, follow: { type: 'boolean', default: false } }, additionalProperties: false },
      response: { status: 200, content: 'ndjson', description: 'stand-in' },
      handler: async ({ services, params, query, request, reply }) => {
        const name = params['name'] as string;
        await services.plugins.get(name);
        const out = stream(request, reply, 'application/x-ndjson');
        for (const record of services.logs.recent(name, query['limit'] as number)) out.write(`${JSON.stringify(record)}\n`);
        if (query['follow'] !== true) out.end();
        else out.onClose(services.logs.subscribe(name, (record) => out.write(`${JSON.stringify(record)}\n`)));
        return undefined;
      },
    }),
    route<DaemonServices>({
      operation: 'events.stream',
      method: 'GET',
      url: '/v1/events',
      summary: 'stand-in',
      role: 'viewer',
      mutates: false,
      query: { type: 'object', properties: { types: { type: 'string' } }, additionalProperties: false },
      response: { status: 200, content: 'event-stream', description: 'stand-in' },
      handler: ({ services, query, request, reply }) => {
        const types = typeof query['types'] === 'string' ? query['types'].split(',') : ['plugin'];
        const out = stream(request, reply, 'text/event-stream');
        out.write(': ping\n\n');
        if (types.includes('plugin')) {
          out.onClose(
            services.plugins.registry.onEvent((plugin, name, payload) => {
              out.write(`event: plugin\ndata: ${JSON.stringify({ time: new Date().toISOString(), plugin, name, payload: Buffer.from(payload).toString('base64') })}\n\n`);
            }),
          );
        }
        return Promise.resolve(undefined);
      },
    }),
    route<DaemonServices>({
      operation: 'audit.query',
      method: 'GET',
      url: '/v1/audit',
      summary: 'stand-in',
      role: 'viewer',
      mutates: false,
      query: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, default: 100 }, since: { type: 'string' }, plugin: { type: 'string' } },
        additionalProperties: false,
      },
      response: { status: 200, content: { type: 'object' }, description: 'stand-in' },
      handler: async ({ services, query }) => {
        const log = await auditLog(services);
        const since = query['since'] as string | undefined;
        const ago = since === undefined ? undefined : parseDuration(since);
        const tail = await readAuditTail({
          path: log.path,
          limit: query['limit'] as number,
          ...(since === undefined ? {} : { since: ago === undefined ? Date.parse(since) : Date.now() - ago }),
          ...(query['plugin'] === undefined ? {} : { plugin: query['plugin'] as string }),
        });
        return { records: tail.records };
      },
    }),
    route<DaemonServices>({
      operation: 'audit.verify',
      method: 'GET',
      url: '/v1/audit/verify',
      summary: 'stand-in',
      role: 'viewer',
      mutates: false,
      response: { status: 200, content: { type: 'object' }, description: 'stand-in' },
      handler: async ({ services }) => {
        const result = await verifyAuditLog({ path: (await auditLog(services)).path });
        const { problem } = result;
        return {
          ok: result.ok,
          records: result.records,
          checkpoints: result.checkpoints,
          signatures: result.signatures,
          ...(problem?.record === undefined ? {} : { firstBad: { seq: problem.record.seq, reason: `${problem.code}: ${problem.message}` } }),
          ...(problem === undefined ? {} : { problem: { code: problem.code, message: problem.message } }),
        };
      },
    }),
    route<DaemonServices>({
      operation: 'tokens.list',
      method: 'GET',
      url: '/v1/tokens',
      summary: 'stand-in',
      role: 'admin',
      mutates: false,
      response: { status: 200, content: { type: 'object' }, description: 'stand-in' },
      handler: ({ services }) => Promise.resolve({ tokens: services.tokens.list() }),
    }),
    route<DaemonServices>({
      operation: 'tokens.create',
      method: 'POST',
      url: '/v1/tokens',
      summary: 'stand-in',
      role: 'admin',
      mutates: true,
      body: {
        type: 'object',
        properties: { name: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'operator', 'admin'] }, expires_in: { type: 'string' } },
        required: ['name', 'role'],
        additionalProperties: false,
      },
      response: { status: 201, content: { type: 'object' }, description: 'stand-in' },
      handler: ({ services, body }) => {
        const { name, role, expires_in: expiresIn } = body as { name: string; role: Role; expires_in?: string };
        return Promise.resolve(services.tokens.create(name, role, expiresIn === undefined ? undefined : parseDuration(expiresIn)));
      },
    }),
    route<DaemonServices>({
      operation: 'tokens.revoke',
      method: 'DELETE',
      url: '/v1/tokens/:id',
      summary: 'stand-in',
      role: 'admin',
      mutates: true,
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
      response: { status: 200, content: { type: 'object' }, description: 'stand-in' },
      handler: ({ services, params }) => Promise.resolve(services.tokens.revoke(params['id'] as string)),
    }),
    route<DaemonServices>({
      operation: 'system.stats',
      method: 'GET',
      url: '/v1/stats',
      summary: 'stand-in',
      role: 'viewer',
      mutates: false,
      response: { status: 200, content: { type: 'object' }, description: 'stand-in' },
      handler: async ({ services }) => ({
        time: new Date().toISOString(),
        plugins: (await services.plugins.list()).map((plugin) => ({ name: plugin.name, calls: 0, errors: 0, callsPerSecond: 0, p50Seconds: null, p99Seconds: null, memoryBytes: null, fuelTotal: 0 })),
      }),
    }),
  ];
  return all.filter((candidate) => !DAEMON_ROUTES.some((served) => served.method === candidate.method && served.url === candidate.url));
}
