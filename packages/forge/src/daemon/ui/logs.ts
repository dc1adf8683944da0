/**
 * The selected plugin's log, followed live: GET /v1/plugins/:name/logs?follow=true
 * (NDJSON), the newest records first, at most 200 kept. Log lines are the plugin's own
 * text: shown as text, bounded, with control characters replaced (format.ts `plain`).
 */
import { type Api } from './api.js';
import { h, setText } from './dom.js';
import { clock, plain } from './format.js';
import { BoundedList } from './lists.js';
import { LiveStream, statusText } from './stream.js';
import { record } from './types.js';

/** Records asked for when a stream (re)opens. */
const REPLAY = 100;

interface LogLine {
  readonly time: unknown;
  readonly level: string;
  readonly message: string;
  readonly fields: string;
}

/** A log record off the wire, or undefined for a keep-alive line (`{}`) or anything else. */
export function logLine(line: string): LogLine | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
  const item = record(parsed);
  if (typeof item['message'] !== 'string') return undefined;
  const fields = record(item['fields']);
  return { time: item['time'], level: plain(item['level'], 8), message: plain(item['message'], 2000), fields: Object.keys(fields).length === 0 ? '' : plain(fields, 500) };
}

function renderLine(line: LogLine): HTMLElement {
  return h(
    'li',
    { class: `log level-${['trace', 'debug', 'info', 'warn', 'error'].includes(line.level) ? line.level : 'other'}` },
    h('time', { text: clock(line.time) }),
    h('span', { class: 'level', text: line.level }),
    h('span', { class: 'message', text: line.message }),
    ...(line.fields === '' ? [] : [h('span', { class: 'fields', text: line.fields })]),
  );
}

/** See the module comment. */
export class PluginLogView {
  readonly #api: Api;
  readonly #list: BoundedList<LogLine>;
  readonly #status: HTMLElement;
  #stream: LiveStream | undefined;

  constructor(api: Api, element: HTMLElement, status: HTMLElement) {
    this.#api = api;
    this.#list = new BoundedList(element, renderLine);
    this.#status = status;
  }

  /** Follows `name`'s log instead of the previous plugin's (undefined: none). */
  follow(name: string | undefined): void {
    this.stop();
    this.#list.clear();
    if (name === undefined) return;
    const stream = new LiveStream({
      api: this.#api,
      path: `/v1/plugins/${encodeURIComponent(name)}/logs?limit=${REPLAY}&follow=true`,
      accept: 'application/x-ndjson',
      // Each connection replays the newest records: start the list again rather than repeat them.
      onOpen: () => this.#list.clear(),
      onLine: (text) => {
        const line = logLine(text);
        if (line !== undefined) this.#list.push(line);
      },
      onStatus: (status) => {
        if (status.kind === 'stopped') return;
        setText(this.#status, status.kind === 'unavailable' ? 'Plugin logs are not available from this daemon.' : `log: ${statusText(status)}`);
        this.#status.dataset['state'] = status.kind;
      },
    });
    this.#stream = stream;
    stream.start();
  }

  stop(): void {
    this.#stream?.stop();
    this.#stream = undefined;
  }
}
