/**
 * The selected plugin: what it is, its four live charts (calls/s, p99 latency, memory,
 * fuel/s) and its log. Only one plugin's charts are drawn, whatever the number of
 * plugins; the others' history is kept by the stats poller.
 */
import { LineChart } from './charts.js';
import { h, setText } from './dom.js';
import { bytes, clock, compact, plain, seconds } from './format.js';
import type { Figure, History } from './stats.js';
import type { PluginView } from './types.js';

/** The charts, in the order shown. */
const CHARTS: readonly { readonly figure: Figure; readonly title: string; readonly format: (value: number | undefined) => string }[] = [
  { figure: 'callsPerSecond', title: 'calls/s', format: compact },
  { figure: 'p99Seconds', title: 'p99 latency', format: seconds },
  { figure: 'memoryBytes', title: 'memory', format: bytes },
  { figure: 'fuelPerSecond', title: 'fuel/s', format: compact },
];

/** What the panel is made of. */
export interface DetailParts {
  readonly title: HTMLElement;
  readonly facts: HTMLElement;
  readonly charts: HTMLElement;
  readonly chartsStatus: HTMLElement;
}

/** See the module comment. */
export class PluginDetail {
  readonly #parts: DetailParts;
  readonly #charts: readonly { readonly figure: Figure; readonly chart: LineChart }[];
  #shownFacts = '';

  constructor(parts: DetailParts) {
    this.#parts = parts;
    this.#charts = CHARTS.map(({ figure, title, format }) => ({ figure, chart: new LineChart(title, format) }));
    parts.charts.replaceChildren(...this.#charts.map(({ chart }) => chart.element));
  }

  /** Shows `view` (undefined: nothing selected). */
  show(view: PluginView | undefined): void {
    setText(this.#parts.title, view === undefined ? 'No plugin selected' : plain(view.name, 128));
    const facts: [string, string][] =
      view === undefined
        ? []
        : [
            ['state', plain(view.state, 24)],
            ['desired', plain(view.desired, 24)],
            ['version', plain(view.version, 80)],
            ['publisher', `${plain(view.publisher, 120)}${view.attested ? ' (verified signature)' : ' (not attested)'}`],
            ['digest', plain(view.digest, 80)],
            ['installed', `${clock(view.installedAt)} (${plain(view.installedAt, 40)})`],
            ['previous version', plain(view.previousVersion ?? 'none', 80)],
            ['restarts', String(view.restarts)],
            ...(view.loadError === null ? [] : ([['load error', plain(`${view.loadError.code}: ${view.loadError.message}`)]] as [string, string][])),
          ];
    // Facts change rarely (the view is replaced on every poll): rebuild them only when they differ.
    const signature = JSON.stringify(facts);
    if (signature === this.#shownFacts) return;
    this.#shownFacts = signature;
    this.#parts.facts.replaceChildren(...facts.flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: value })]));
  }

  /** Draws the selected plugin's charts from its history. */
  draw(history: History | undefined): void {
    for (const { figure, chart } of this.#charts) chart.draw(history?.[figure]);
  }

  /** Says why there are no figures (undefined: there are). */
  problem(text: string | undefined): void {
    setText(this.#parts.chartsStatus, text ?? '');
    this.#parts.chartsStatus.hidden = text === undefined;
    this.#parts.charts.classList.toggle('unavailable', text !== undefined);
  }
}
