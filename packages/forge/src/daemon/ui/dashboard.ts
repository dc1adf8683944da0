/**
 * The dashboard once logged in: wires the panels to the API and to each other.
 *
 * The plugin list is read with GET /v1/plugins when the page opens, after every action
 * (the action's answer updates its row at once), and then every 10 s while the event
 * stream is live (lifecycle events keep states current in between) or every 3 s when it
 * is not. Every request goes through one {@link Api}, with the token.
 */
import { describe, type Api } from './api.js';
import { byId, setText } from './dom.js';
import { plain } from './format.js';
import { LiveFeed } from './feed.js';
import { MarketplacePanel } from './marketplace.js';
import { PluginDetail } from './detail.js';
import { PluginLogView } from './logs.js';
import { PluginTable, type Action } from './plugins.js';
import { StatsPoller } from './stats.js';
import type { StreamStatus } from './stream.js';
import { list, record, type Info, type PluginView } from './types.js';
import { UpgradesPanel } from './upgrades.js';
import { AuditVerifier } from './verify.js';

/** Time between plugin list refreshes, in ms, with and without a live event stream. */
const REFRESH_LIVE_MS = 10_000;
const REFRESH_POLLING_MS = 3_000;

/** A plugin off the wire, or undefined. */
export function pluginView(value: unknown): PluginView | undefined {
  const item = record(value);
  if (typeof item['name'] !== 'string') return undefined;
  const text = (key: string): string => (typeof item[key] === 'string' ? item[key] : '');
  const loadError = record(item['loadError']);
  return {
    name: item['name'],
    version: text('version'),
    publisher: text('publisher'),
    attested: item['attested'] === true,
    digest: text('digest'),
    state: text('state'),
    desired: text('desired'),
    restarts: typeof item['restarts'] === 'number' ? item['restarts'] : 0,
    installedAt: text('installedAt'),
    previousVersion: typeof item['previousVersion'] === 'string' ? item['previousVersion'] : null,
    loadError: typeof loadError['code'] === 'string' ? { code: loadError['code'], message: plain(loadError['message']) } : null,
  };
}

/**
 * Records how long an update took, as User Timing measures (the browser's performance
 * tools show them; bench/dashboard.mjs reads them with a PerformanceObserver): `name` for
 * the script's own work, `name.painted` up to the frame that shows it. Only the latest
 * of each is kept, so a tab left open for days does not fill up with them.
 */
function measure(name: string, start: number): void {
  performance.clearMeasures(name);
  performance.measure(name, { start, end: performance.now() });
  // A task queued from an animation frame callback runs after that frame is painted.
  requestAnimationFrame(() =>
    setTimeout(() => {
      performance.clearMeasures(`${name}.painted`);
      performance.measure(`${name}.painted`, { start, end: performance.now() });
    }, 0),
  );
}

const PRESENT: Readonly<Record<Action, string>> = { start: 'starting', stop: 'stopping', pause: 'pausing', resume: 'resuming' };

/** See the module comment. */
export class Dashboard {
  readonly #api: Api;
  readonly #info: Info;
  readonly #table: PluginTable;
  readonly #detail: PluginDetail;
  readonly #logs: PluginLogView;
  readonly #stats: StatsPoller;
  readonly #feed: LiveFeed;
  readonly #verifier: AuditVerifier;
  readonly #upgrades: UpgradesPanel;
  readonly #marketplace: MarketplacePanel;
  readonly #actionStatus = byId('action-status', HTMLElement);
  #selected: string | undefined;
  #streamLive = false;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #refreshing: Promise<void> | undefined;
  #stopped = false;

  constructor(api: Api, info: Info) {
    this.#api = api;
    this.#info = info;
    const count = byId('plugin-count', HTMLElement);
    this.#table = new PluginTable(byId('plugin-rows', HTMLTableSectionElement), {
      onAction: (name, action) => void this.#act(name, action),
      onSelect: (name) => this.#select(name),
      onCount: (total, shown) => setText(count, total === shown ? `${total}` : `${shown} of ${total}`),
    });
    this.#table.setRole(info.role);
    const filter = byId('plugin-filter', HTMLInputElement);
    let filterTimer: ReturnType<typeof setTimeout> | undefined;
    filter.addEventListener('input', () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => this.#table.filter(filter.value), 120);
    });
    this.#detail = new PluginDetail({
      title: byId('detail-title', HTMLElement),
      facts: byId('detail-facts', HTMLElement),
      charts: byId('charts', HTMLElement),
      chartsStatus: byId('charts-status', HTMLElement),
    });
    this.#logs = new PluginLogView(api, byId('log-lines', HTMLElement), byId('log-status', HTMLElement));
    this.#stats = new StatsPoller(api, {
      onSample: (latest) => {
        const start = performance.now();
        for (const [name, figures] of latest) this.#table.setFigures(name, figures.callsPerSecond, figures.p99Seconds);
        if (this.#selected !== undefined) this.#detail.draw(this.#stats.history(this.#selected));
        measure('forge.stats.update', start);
      },
      onProblem: (problem) => this.#detail.problem(problem?.text),
    });
    this.#feed = new LiveFeed({
      api,
      events: byId('event-list', HTMLElement),
      audit: byId('audit-list', HTMLElement),
      status: byId('stream-status', HTMLElement),
      onState: (plugin, state) => this.#table.queueState(plugin, state),
      onStatus: (status) => this.#streamStatus(status),
    });
    this.#verifier = new AuditVerifier({ api, status: byId('verify-status', HTMLElement), detail: byId('verify-detail', HTMLElement), button: byId('verify-now', HTMLButtonElement) });
    this.#upgrades = new UpgradesPanel({ api, list: byId('upgrade-list', HTMLElement), status: byId('upgrades-status', HTMLElement), onApproved: () => void this.refresh() });
    this.#marketplace = new MarketplacePanel({
      api,
      form: byId('market-form', HTMLFormElement),
      query: byId('market-query', HTMLInputElement),
      results: byId('market-results', HTMLElement),
      status: byId('market-status', HTMLElement),
      // An install held for approval shows up among the pending upgrades; a new plugin in the list.
      onInstalled: () => {
        void this.refresh();
        void this.#upgrades.refresh();
      },
    });
  }

  /** Starts every panel. */
  start(): void {
    void this.refresh();
    this.#stats.start();
    this.#feed.start();
    this.#verifier.start();
    this.#upgrades.start(this.#info.role);
    this.#marketplace.start(this.#info.role);
  }

  /** Stops every timer and stream (log out). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    this.#stats.stop();
    this.#feed.stop();
    this.#logs.stop();
    this.#verifier.stop();
    this.#upgrades.stop();
    this.#marketplace.stop();
  }

  /** Reads the plugin list now (one read at a time), then schedules the next. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#readPlugins().finally(() => {
      this.#refreshing = undefined;
      if (this.#stopped) return;
      clearTimeout(this.#refreshTimer);
      this.#refreshTimer = setTimeout(() => void this.refresh(), this.#streamLive ? REFRESH_LIVE_MS : REFRESH_POLLING_MS);
    });
    return this.#refreshing;
  }

  async #readPlugins(): Promise<void> {
    try {
      const views = list(record(await this.#api.get('/v1/plugins'))['plugins']).flatMap((item) => pluginView(item) ?? []);
      if (this.#stopped) return;
      const start = performance.now();
      this.#table.replaceAll(views);
      measure('forge.plugins.update', start);
      if (this.#selected === undefined && views[0] !== undefined) this.#select((views.find((view) => view.state === 'running') ?? views[0]).name);
      else if (this.#selected !== undefined) this.#detail.show(this.#table.get(this.#selected));
    } catch (error) {
      this.#say(`Could not read the plugins: ${describe(error)}`, 'error');
    }
  }

  async #act(name: string, action: Action): Promise<void> {
    this.#table.setPending(name, true);
    this.#say(`${PRESENT[action]} ${plain(name, 128)}\u2026`, 'busy');
    try {
      const view = pluginView(await this.#api.post(`/v1/plugins/${encodeURIComponent(name)}/${action}`));
      if (view !== undefined) {
        this.#table.apply(view);
        if (view.name === this.#selected) this.#detail.show(view);
        this.#say(`${plain(name, 128)}: ${plain(view.state, 24)}`, 'ok');
      }
    } catch (error) {
      this.#say(`${action} ${plain(name, 128)} failed: ${describe(error)}`, 'error');
    } finally {
      this.#table.setPending(name, false);
    }
  }

  #select(name: string): void {
    if (name === this.#selected) return;
    this.#selected = name;
    this.#table.select(name);
    this.#detail.show(this.#table.get(name));
    this.#detail.draw(this.#stats.history(name));
    this.#logs.follow(name);
  }

  #streamStatus(status: StreamStatus): void {
    const live = status.kind === 'open';
    // Coming back after a gap: states may have changed meanwhile.
    if (live && !this.#streamLive) void this.refresh();
    this.#streamLive = live;
  }

  #say(text: string, state: 'busy' | 'ok' | 'error'): void {
    setText(this.#actionStatus, text);
    this.#actionStatus.dataset['state'] = state;
  }
}
