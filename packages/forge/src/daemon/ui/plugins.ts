/**
 * The plugin table, built to stay fast with thousands of plugins: one row per plugin,
 * keyed by name, created once and then only patched (a cell is written only when its
 * text changes, a button only when its enabled state does); rows move only when the
 * order changes; state changes from the event stream are applied once per animation
 * frame, however many arrive. Clicks are handled by one listener on the table body.
 */
import { frameBatcher, h, setText } from './dom.js';
import { compact, plain, seconds } from './format.js';
import { roleAllows, type PluginView, type Role } from './types.js';

/** The lifecycle actions the table offers. */
export const ACTIONS = ['start', 'stop', 'pause', 'resume'] as const;
export type Action = (typeof ACTIONS)[number];

/** The states each action can start from (the registry's transitions, docs/reference/http-api.md). */
const ALLOWED_FROM: Readonly<Record<Action, ReadonlySet<string>>> = {
  start: new Set(['created', 'ready', 'stopped', 'failed', 'unloaded', 'not-loaded']),
  stop: new Set(['running', 'paused']),
  pause: new Set(['running']),
  resume: new Set(['paused']),
};

/** The states with a style of their own; any other shows as `state-other`. */
const KNOWN_STATES = new Set(['created', 'initializing', 'ready', 'running', 'paused', 'stopping', 'stopped', 'failed', 'quarantined', 'unloaded', 'not-loaded']);

/** Why `action` is not offered now, or undefined when it is. */
export function actionRefusal(action: Action, state: string, role: Role, pending: boolean): string | undefined {
  if (!roleAllows(role, 'operator')) return `needs the operator role; this token has ${role}`;
  if (pending) return 'an action is in progress';
  if (!ALLOWED_FROM[action].has(state)) return `not possible while ${state}`;
  return undefined;
}

interface Row {
  readonly tr: HTMLTableRowElement;
  readonly state: HTMLElement;
  readonly desired: HTMLElement;
  readonly version: HTMLElement;
  readonly publisher: HTMLElement;
  readonly restarts: HTMLElement;
  readonly rate: HTMLElement;
  readonly p99: HTMLElement;
  readonly warning: HTMLElement;
  readonly buttons: Readonly<Record<Action, HTMLButtonElement>>;
  view: PluginView;
  pending: boolean;
}

let template: HTMLTableRowElement | undefined;

/** An empty row: the cells and their parts, in the order {@link PluginTable} reads them. */
function rowTemplate(): HTMLTableRowElement {
  template ??= h(
    'tr',
    {},
    h('td', { class: 'name' }, h('button', { class: 'select', attrs: { type: 'button' } }), h('span', { class: 'load-error', text: '!', attrs: { 'aria-label': 'load error' } })),
    h('td', { class: 'state-cell' }, h('span', { class: 'state' }), h('span', { class: 'restarts' }), h('span', { class: 'desired' })),
    h('td', { class: 'version' }, h('span')),
    h('td', { class: 'publisher' }, h('span')),
    h('td', { class: 'num' }, h('span', { text: '\u2013' })),
    h('td', { class: 'num' }, h('span', { text: '\u2013' })),
    h('td', { class: 'actions' }, ...ACTIONS.map((action) => h('button', { text: action, class: `action action-${action}`, attrs: { type: 'button', 'data-action': action } }))),
  );
  return template;
}

/** What the table tells its owner. */
export interface TableEvents {
  readonly onAction: (name: string, action: Action) => void;
  readonly onSelect: (name: string) => void;
  /** The number of plugins and of those the filter shows. */
  readonly onCount: (total: number, shown: number) => void;
}

/** See the module comment. */
export class PluginTable {
  readonly #body: HTMLTableSectionElement;
  readonly #events: TableEvents;
  readonly #rows = new Map<string, Row>();
  readonly #names = new WeakMap<Element, string>();
  readonly #queuedStates = new Map<string, string>();
  readonly #flushStates = frameBatcher(() => this.#applyQueuedStates());
  #role: Role = 'viewer';
  #filter = '';
  #selected: string | undefined;

  constructor(body: HTMLTableSectionElement, events: TableEvents) {
    this.#body = body;
    this.#events = events;
    body.addEventListener('click', (event) => this.#click(event));
  }

  /** The plugin called `name`, as last seen. */
  get(name: string): PluginView | undefined {
    return this.#rows.get(name)?.view;
  }

  /** The plugins' names, in table order. */
  names(): string[] {
    return [...this.#rows.keys()];
  }

  /** Sets the caller's role (which buttons are enabled). */
  setRole(role: Role): void {
    this.#role = role;
    for (const row of this.#rows.values()) this.#updateButtons(row);
  }

  /** Makes the table show exactly `views` (sorted by name), touching only what changed. */
  replaceAll(views: readonly PluginView[]): void {
    const seen = new Set<string>();
    const fresh = this.#rows.size === 0 ? document.createDocumentFragment() : undefined;
    let previous: Element | null = null;
    for (const view of views) {
      seen.add(view.name);
      const row = this.#upsert(view);
      if (fresh !== undefined) {
        fresh.append(row.tr);
        continue;
      }
      const expected: Element | null = previous === null ? this.#body.firstElementChild : previous.nextElementSibling;
      if (expected !== row.tr) this.#body.insertBefore(row.tr, expected);
      previous = row.tr;
    }
    if (fresh !== undefined) this.#body.append(fresh);
    for (const [name, row] of this.#rows) {
      if (seen.has(name)) continue;
      row.tr.remove();
      this.#rows.delete(name);
    }
    this.#count();
  }

  /** Updates (or adds) one plugin, e.g. from an action's answer. */
  apply(view: PluginView): void {
    const known = this.#rows.has(view.name);
    const row = this.#upsert(view);
    if (!known) {
      const after = [...this.#rows.keys()].filter((name) => name > view.name).sort()[0];
      this.#body.insertBefore(row.tr, after === undefined ? null : (this.#rows.get(after)?.tr ?? null));
      this.#count();
    }
  }

  /** Records a state change seen on the event stream; applied in the next frame. */
  queueState(name: string, state: string): void {
    if (!this.#rows.has(name)) return;
    this.#queuedStates.set(name, state);
    this.#flushStates();
  }

  /** Shows a plugin's live figures. */
  setFigures(name: string, callsPerSecond: number | undefined, p99Seconds: number | undefined): void {
    const row = this.#rows.get(name);
    if (row === undefined) return;
    setText(row.rate, compact(callsPerSecond));
    setText(row.p99, seconds(p99Seconds));
  }

  /** Marks an action in progress on `name` (its buttons are disabled meanwhile). */
  setPending(name: string, pending: boolean): void {
    const row = this.#rows.get(name);
    if (row === undefined) return;
    row.pending = pending;
    row.tr.classList.toggle('pending', pending);
    this.#updateButtons(row);
  }

  /** Shows only the plugins whose name, publisher or state contains `text` (case-insensitive). */
  filter(text: string): void {
    this.#filter = text.trim().toLowerCase();
    for (const row of this.#rows.values()) this.#applyFilter(row);
    this.#count();
  }

  /** Highlights the selected plugin. */
  select(name: string | undefined): void {
    if (this.#selected !== undefined) this.#rows.get(this.#selected)?.tr.classList.remove('selected');
    this.#selected = name;
    if (name !== undefined) this.#rows.get(name)?.tr.classList.add('selected');
  }

  #upsert(view: PluginView): Row {
    let row = this.#rows.get(view.name);
    if (row === undefined) {
      row = this.#create(view);
      this.#rows.set(view.name, row);
    }
    row.view = view;
    // What the daemon will bring back at its next start, shown only when it differs from now.
    setText(row.desired, view.desired === view.state || view.desired === '' ? '' : `wants ${plain(view.desired, 20)}`);
    setText(row.version, plain(view.version, 80));
    setText(row.publisher, plain(view.publisher, 120));
    const signature = view.attested ? 'signed by this publisher (verified)' : 'not attested';
    if (row.publisher.title !== signature) row.publisher.title = signature;
    setText(row.restarts, view.restarts > 0 ? `\u21bb${view.restarts}` : '');
    const restarts = `restarted ${view.restarts} time${view.restarts === 1 ? '' : 's'} after failing`;
    if (row.restarts.title !== restarts) row.restarts.title = restarts;
    const problem = view.loadError === null ? '' : plain(`${view.loadError.code}: ${view.loadError.message}`);
    if (row.warning.hidden !== (problem === '')) row.warning.hidden = problem === '';
    if (row.warning.title !== problem) row.warning.title = problem;
    this.#setState(row, view.state);
    this.#applyFilter(row);
    return row;
  }

  #create(view: PluginView): Row {
    // Cloning one prepared row is several times faster than building fifteen elements per plugin.
    const tr = rowTemplate().cloneNode(true) as HTMLTableRowElement;
    const part = (cell: number, child: number): HTMLElement => tr.children[cell]?.children[child] as HTMLElement;
    const name = plain(view.name, 128);
    const select = part(0, 0);
    select.textContent = name;
    select.title = `show ${name}`;
    const buttons = Object.fromEntries(ACTIONS.map((action, index) => [action, part(6, index) as HTMLButtonElement])) as Record<Action, HTMLButtonElement>;
    const row: Row = {
      tr,
      warning: part(0, 1),
      state: part(1, 0),
      restarts: part(1, 1),
      desired: part(1, 2),
      version: part(2, 0),
      publisher: part(3, 0),
      rate: part(4, 0),
      p99: part(5, 0),
      buttons,
      view,
      pending: false,
    };
    tr.dataset['name'] = view.name;
    this.#names.set(tr, view.name);
    if (view.name === this.#selected) tr.classList.add('selected');
    return row;
  }

  #setState(row: Row, state: string): void {
    const text = plain(state, 24);
    if (row.state.textContent === text) return;
    row.state.textContent = text;
    row.state.className = `state state-${KNOWN_STATES.has(state) ? state : 'other'}`;
    row.view = { ...row.view, state };
    this.#updateButtons(row);
  }

  #updateButtons(row: Row): void {
    for (const action of ACTIONS) {
      const button = row.buttons[action];
      const refusal = actionRefusal(action, row.view.state, this.#role, row.pending);
      if (button.disabled !== (refusal !== undefined)) button.disabled = refusal !== undefined;
      const title = refusal ?? `${action} ${row.view.name}`;
      if (button.title !== title) button.title = title;
    }
  }

  #applyFilter(row: Row): void {
    const view = row.view;
    const hidden = this.#filter !== '' && ![view.name, view.publisher, view.state].some((text) => text.toLowerCase().includes(this.#filter));
    if (row.tr.hidden !== hidden) row.tr.hidden = hidden;
  }

  #applyQueuedStates(): void {
    for (const [name, state] of this.#queuedStates) {
      const row = this.#rows.get(name);
      if (row !== undefined) this.#setState(row, state);
    }
    this.#queuedStates.clear();
  }

  #count(): void {
    let shown = 0;
    for (const row of this.#rows.values()) if (!row.tr.hidden) shown += 1;
    this.#events.onCount(this.#rows.size, shown);
  }

  #click(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target : null;
    const tr = target?.closest('tr');
    const name = tr === null || tr === undefined ? undefined : this.#names.get(tr);
    if (name === undefined || target === null) return;
    const action = target.closest('button[data-action]')?.getAttribute('data-action');
    if (action !== null && action !== undefined) {
      if ((ACTIONS as readonly string[]).includes(action)) this.#events.onAction(name, action as Action);
      return;
    }
    this.#events.onSelect(name);
  }
}
