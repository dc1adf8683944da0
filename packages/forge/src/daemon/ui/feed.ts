/**
 * The live feed: GET /v1/events (lifecycle changes, plugin events, audit records) read
 * as Server-Sent Events over fetch, feeding the event list, the audit list and the plugin
 * table's states. After each (re)connection the newest audit records are fetched too
 * (GET /v1/audit), so nothing appended while the stream was down is missing from the list.
 */
import { isMissing, type Api } from './api.js';
import { h, setText } from './dom.js';
import { clock, payloadText, plain } from './format.js';
import { AuditList, BoundedList } from './lists.js';
import { LiveStream, sseParser, statusText, type StreamStatus } from './stream.js';
import { list, record, type AuditRecord } from './types.js';

/** An item of the event list. */
type FeedEvent = { readonly kind: 'lifecycle'; readonly data: Readonly<Record<string, unknown>> } | { readonly kind: 'plugin'; readonly data: Readonly<Record<string, unknown>> } | { readonly kind: 'note'; readonly text: string };

/** Where the feed shows things, and who else wants to know. */
export interface FeedParts {
  readonly api: Api;
  readonly events: HTMLElement;
  readonly audit: HTMLElement;
  readonly status: HTMLElement;
  /** A plugin's state changed. */
  readonly onState: (plugin: string, state: string) => void;
  /** The stream (re)connected, or turned out to be unavailable: the owner may resynchronise. */
  readonly onStatus: (status: StreamStatus) => void;
}

/** The newest audit records fetched after each connection. */
const BACKFILL = 50;

/** Parses an audit record off the wire, or undefined. */
export function auditRecord(value: unknown): AuditRecord | undefined {
  const item = record(value);
  if (typeof item['seq'] !== 'number') return undefined;
  const text = (key: string): string => (typeof item[key] === 'string' ? item[key] : plain(item[key]));
  return { seq: item['seq'], ts: text('ts'), principal: text('principal'), action: text('action'), resource: text('resource'), decision: text('decision'), reason: text('reason') };
}

/** See the module comment. */
export class LiveFeed {
  readonly #parts: FeedParts;
  readonly #events: BoundedList<FeedEvent>;
  readonly #audit: AuditList;
  readonly #stream: LiveStream;

  constructor(parts: FeedParts) {
    this.#parts = parts;
    this.#events = new BoundedList(parts.events, renderEvent);
    this.#audit = new AuditList(parts.audit);
    const onLine = sseParser((type, data) => this.#event(type, data));
    this.#stream = new LiveStream({
      api: parts.api,
      path: '/v1/events?types=lifecycle,plugin,audit',
      accept: 'text/event-stream',
      onLine,
      onOpen: () => void this.#backfill(),
      onStatus: (status) => {
        setText(parts.status, statusText(status));
        parts.status.dataset['state'] = status.kind;
        parts.onStatus(status);
      },
    });
  }

  start(): void {
    this.#stream.start();
  }

  stop(): void {
    this.#stream.stop();
  }

  #event(type: string, data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data) as unknown;
    } catch {
      return;
    }
    const body = record(parsed);
    switch (type) {
      case 'lifecycle':
        if (typeof body['plugin'] === 'string' && typeof body['to'] === 'string') this.#parts.onState(body['plugin'], body['to']);
        this.#events.push({ kind: 'lifecycle', data: body });
        break;
      case 'plugin':
        this.#events.push({ kind: 'plugin', data: body });
        break;
      case 'audit': {
        const item = auditRecord(body);
        if (item !== undefined) this.#audit.add([item]);
        break;
      }
      case 'overflow':
        // The daemon dropped us for falling behind: say so, and reconnect (the backfill fills the audit gap).
        this.#events.push({ kind: 'note', text: 'the dashboard fell behind the event stream; reconnecting' });
        this.#stream.reconnect();
        break;
      default:
        break;
    }
  }

  async #backfill(): Promise<void> {
    try {
      const answer = record(await this.#parts.api.get(`/v1/audit?limit=${BACKFILL}`));
      this.#audit.add(list(answer['records']).flatMap((item) => auditRecord(item) ?? []));
    } catch (error) {
      // A daemon without GET /v1/audit still streams new records; anything else shows on the next attempt.
      if (!isMissing(error)) this.#events.push({ kind: 'note', text: `could not read recent audit records: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
}

/** One event as a list item. */
function renderEvent(event: FeedEvent): HTMLElement {
  if (event.kind === 'note') return h('li', { class: 'event event-note', text: event.text });
  const data = event.data;
  const plugin = h('span', { class: 'plugin', text: plain(data['plugin'], 128) });
  if (event.kind === 'plugin') {
    return h(
      'li',
      { class: 'event event-plugin' },
      h('time', { text: clock(data['time']) }),
      plugin,
      h('span', { class: 'event-name', text: plain(data['name'], 128) }),
      h('span', { class: 'payload', text: payloadText(data['payload']) }),
    );
  }
  const error = record(data['error']);
  const problem = data['error'] === undefined || data['error'] === null ? '' : typeof error['code'] === 'string' ? `${error['code']}: ${plain(error['message'])}` : plain(data['error']);
  return h(
    'li',
    { class: 'event event-lifecycle' },
    h('time', { text: clock(data['time']) }),
    plugin,
    h('span', { class: 'transition', text: `${plain(data['from'], 24)} \u2192 ${plain(data['to'], 24)}` }),
    h('span', { class: 'step', text: plain(data['step'], 40) }),
    ...(problem === '' ? [] : [h('span', { class: 'error', text: problem })]),
  );
}
