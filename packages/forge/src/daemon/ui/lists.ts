/**
 * Bounded live lists, newest first: whatever the rate of arrivals, the page holds at
 * most `limit` items and touches the DOM once per animation frame (a burst of a
 * thousand events costs one insertion of the newest `limit`).
 */
import { frameBatcher, h } from './dom.js';
import { clock, plain } from './format.js';
import type { AuditRecord } from './types.js';

/** The default number of items a list keeps. */
export const LIST_LIMIT = 200;

/** A list of items in arrival order, newest on top. */
export class BoundedList<T> {
  readonly #element: HTMLElement;
  readonly #limit: number;
  readonly #render: (item: T) => HTMLElement;
  #queue: T[] = [];
  readonly #flush = frameBatcher(() => this.#apply());

  constructor(element: HTMLElement, render: (item: T) => HTMLElement, limit = LIST_LIMIT) {
    this.#element = element;
    this.#render = render;
    this.#limit = limit;
  }

  /** Adds an item (shown in the next frame). */
  push(item: T): void {
    this.#queue.push(item);
    // Items that could never be shown are dropped at once, so memory stays bounded too.
    if (this.#queue.length > 2 * this.#limit) this.#queue = this.#queue.slice(-this.#limit);
    this.#flush();
  }

  /** Removes every item. */
  clear(): void {
    this.#queue = [];
    this.#element.replaceChildren();
  }

  #apply(): void {
    const items = this.#queue.slice(-this.#limit);
    this.#queue = [];
    const fragment = document.createDocumentFragment();
    for (let i = items.length - 1; i >= 0; i -= 1) fragment.append(this.#render(items[i] as T));
    this.#element.prepend(fragment);
    while (this.#element.childElementCount > this.#limit) this.#element.lastElementChild?.remove();
  }
}

/**
 * The audit records, by sequence number (newest on top), without duplicates: records
 * come from the live stream and from GET /v1/audit after each (re)connection, and may
 * overlap or arrive out of order.
 */
export class AuditList {
  readonly #element: HTMLElement;
  readonly #limit: number;
  readonly #shown = new Map<number, HTMLElement>();
  #queue: AuditRecord[] = [];
  readonly #flush = frameBatcher(() => this.#apply());

  constructor(element: HTMLElement, limit = LIST_LIMIT) {
    this.#element = element;
    this.#limit = limit;
  }

  /** Adds records (shown in the next frame). */
  add(records: readonly AuditRecord[]): void {
    for (const item of records) if (Number.isSafeInteger(item.seq)) this.#queue.push(item);
    if (this.#queue.length > 4 * this.#limit) this.#queue = this.#queue.sort((a, b) => a.seq - b.seq).slice(-this.#limit);
    this.#flush();
  }

  /** Removes every record. */
  clear(): void {
    this.#queue = [];
    this.#shown.clear();
    this.#element.replaceChildren();
  }

  #apply(): void {
    const records = this.#queue.sort((a, b) => b.seq - a.seq);
    this.#queue = [];
    // Walk down the list (sorted by seq, descending) once, inserting each new record in place.
    let cursor = this.#element.firstElementChild;
    for (const item of records) {
      if (this.#shown.has(item.seq)) continue;
      while (cursor !== null && Number((cursor as HTMLElement).dataset['seq']) > item.seq) cursor = cursor.nextElementSibling;
      const element = renderAudit(item);
      this.#element.insertBefore(element, cursor);
      this.#shown.set(item.seq, element);
    }
    while (this.#element.childElementCount > this.#limit) {
      const last = this.#element.lastElementChild as HTMLElement | null;
      if (last === null) break;
      this.#shown.delete(Number(last.dataset['seq']));
      last.remove();
    }
  }
}

/** One audit record as a list item. */
export function renderAudit(item: AuditRecord): HTMLElement {
  const decision = plain(item.decision, 16);
  const element = h(
    'li',
    { class: `audit decision-${decision === 'allow' || decision === 'deny' ? decision : 'other'}` },
    h('time', { text: clock(item.ts) }),
    h('span', { class: 'seq', text: `#${item.seq}` }),
    h('span', { class: 'principal', text: plain(item.principal, 80) }),
    h('span', { class: 'action', text: plain(item.action, 80) }),
    h('span', { class: 'resource', text: plain(item.resource ?? '', 200) }),
    h('span', { class: 'decision', text: decision }),
    h('span', { class: 'reason', text: plain(item.reason ?? '', 300) }),
  );
  element.dataset['seq'] = String(item.seq);
  return element;
}
