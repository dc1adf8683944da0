/**
 * The live event stream (Server-Sent Events): lifecycle transitions, plugin events and
 * audit records as they happen (events.ts).
 */
import { route, type JsonSchema, type Route } from '../http/route.js';
import { errorBody } from '../http/errors.js';
import { EVENT_TYPES, sseEvent, type EventType } from '../events.js';
import type { StreamFormat } from '../streams.js';
import type { DaemonServices } from './services.js';

const TYPE = `(?:${EVENT_TYPES.join('|')})`;

/** The data of each kind of event. */
export const EVENT_DATA: JsonSchema = {
  oneOf: [
    {
      title: 'lifecycle',
      type: 'object',
      properties: {
        time: { type: 'string' },
        plugin: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        step: { type: ['string', 'null'], description: 'The lifecycle step that moved the plugin (init, start, stop, pause, resume, unload), or null.' },
        error: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'], description: 'Why it failed or was quarantined.' },
      },
      required: ['time', 'plugin', 'from', 'to', 'step'],
    },
    {
      title: 'plugin',
      type: 'object',
      properties: {
        time: { type: 'string' },
        plugin: { type: 'string' },
        name: { type: 'string', description: 'The event name the plugin gave forge.emit_event.' },
        payload: { type: 'string', contentEncoding: 'base64' },
      },
      required: ['time', 'plugin', 'name', 'payload'],
    },
    {
      title: 'audit',
      type: 'object',
      properties: {
        seq: { type: 'integer' },
        ts: { type: 'string' },
        principal: { type: 'string' },
        action: { type: 'string' },
        resource: { type: 'string' },
        decision: { type: 'string', enum: ['allow', 'deny'] },
        reason: { type: 'string' },
      },
      required: ['seq', 'ts', 'principal', 'action', 'decision'],
    },
  ],
};

/** SSE: a `: ping` comment keeps the stream alive; a client that falls behind gets `event: overflow` with the error body. */
const SSE: StreamFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  heartbeat: ': ping\n\n',
  overflow: (error) => sseEvent('overflow', errorBody(error)),
};

/** The event operation. */
export const EVENT_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'events.stream',
    method: 'GET',
    url: '/v1/events',
    summary: 'Lifecycle transitions, plugin events and audit records as they happen (Server-Sent Events).',
    description:
      'Answers text/event-stream. `event: lifecycle`: a plugin changed state; `event: plugin`: a plugin called forge.emit_event ' +
      '(payload in base64); `event: audit`: a record was appended to the audit log. Each `data:` line is one JSON object. ' +
      'A comment `: ping` every 15 s keeps the stream alive. A client that falls 1,000 events (or 4 MiB) behind gets ' +
      '`event: overflow` (data: the error body, FO_DAEMON_STREAM_OVERFLOW) and the stream ends. At most 64 streams are open at once ' +
      '(FO_DAEMON_TOO_MANY_STREAMS, 429).',
    role: 'viewer',
    mutates: false,
    query: {
      type: 'object',
      properties: {
        types: { type: 'string', pattern: `^${TYPE}(?:,${TYPE}){0,2}$`, default: EVENT_TYPES.join(','), description: 'The kinds of events to send, comma-separated.' },
      },
      additionalProperties: false,
    },
    response: { status: 200, content: 'event-stream', items: EVENT_DATA, description: 'The events, as they happen.' },
    handler: ({ services, query, request, reply }) => {
      const types = new Set((query['types'] as string).split(',') as EventType[]);
      const stream = services.streams.open(request, reply, SSE);
      stream.onEnd(services.events.subscribe(types, (chunk) => stream.send(chunk)));
      return Promise.resolve(undefined);
    },
  }),
];
