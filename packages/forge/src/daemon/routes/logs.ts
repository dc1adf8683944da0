/**
 * A plugin's log: the newest records kept by the daemon (daemon.log_buffer per plugin),
 * and with `follow` the new ones as they come, as NDJSON (one JSON object per line).
 * Plugin-supplied text stays data: each record is one JSON line, whatever it contains.
 */
import type { FastifyReply } from 'fastify';
import { PLUGIN_NAME_PARAMS, route, type JsonSchema, type Route } from '../http/route.js';
import { errorBody } from '../http/errors.js';
import type { PluginLogRecord } from '../logs.js';
import type { StreamFormat } from '../streams.js';
import type { DaemonServices } from './services.js';

/** One log record as a line of the stream. */
export const LOG_RECORD: JsonSchema = {
  type: 'object',
  properties: {
    plugin: { type: 'string' },
    time: { type: 'string', description: 'ISO-8601, UTC.' },
    level: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error'] },
    message: { type: 'string', description: 'As the plugin wrote it: escape it before showing it.' },
    fields: { type: 'object' },
  },
  required: ['plugin', 'time', 'level', 'message', 'fields'],
};

const NDJSON = 'application/x-ndjson';

/** Follow streams: a `{}` line keeps them alive; a client that falls behind gets the error body as its last line. */
const FOLLOW: StreamFormat = {
  contentType: NDJSON,
  heartbeat: '{}\n',
  overflow: (error) => `${JSON.stringify(errorBody(error))}\n`,
};

function line(record: PluginLogRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Answers `text` whole, as NDJSON. */
function sendAll(reply: FastifyReply, text: string): void {
  void reply.hijack();
  reply.raw.writeHead(200, { 'content-type': NDJSON, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  reply.raw.end(text);
}

/** The log operation. */
export const LOG_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'plugins.logs',
    method: 'GET',
    url: '/v1/plugins/:name/logs',
    summary: 'A plugin\'s newest log records, and with follow the new ones as they are written.',
    description:
      'Answers application/x-ndjson: one record per line, the newest `limit` oldest first. With `follow=true` the response stays open and ' +
      'each new record is written as it comes; a line `{}` every 15 s keeps it alive. A client that falls 1,000 records (or 4 MiB) behind ' +
      'gets a last line with the error body (FO_DAEMON_STREAM_OVERFLOW) and the stream ends. At most 64 streams are open at once ' +
      '(FO_DAEMON_TOO_MANY_STREAMS, 429).',
    role: 'viewer',
    mutates: false,
    params: PLUGIN_NAME_PARAMS,
    query: {
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 0, maximum: 10_000, default: 100, description: 'How many of the newest records kept to send first (at most daemon.log_buffer are kept).' },
        follow: { type: 'boolean', default: false, description: 'Keep the response open and stream new records.' },
      },
      additionalProperties: false,
    },
    resource: (params) => params['name'],
    response: { status: 200, content: 'ndjson', items: LOG_RECORD, description: 'The records, one JSON object per line.' },
    handler: async ({ services, params, query, request, reply }) => {
      const name = params['name'] as string;
      // A name nobody installed is an error, not a stream that never says anything.
      await services.plugins.get(name);
      const limit = query['limit'] as number;
      if (query['follow'] !== true) {
        sendAll(reply, services.logs.recent(name, limit).map(line).join(''));
        return undefined;
      }
      const stream = services.streams.open(request, reply, FOLLOW);
      // No await from here on: no record can fall between the recent ones and the subscription.
      const recent = services.logs.recent(name, limit);
      if (recent.length > 0) stream.send(recent.map(line).join(''));
      stream.onEnd(services.logs.subscribe(name, (record) => stream.send(line(record))));
      return undefined;
    },
  }),
];
