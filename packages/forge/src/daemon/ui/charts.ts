/**
 * Live line charts as inline SVG (no chart library): a fixed window of samples, redrawn
 * by replacing two path attributes, which costs the browser one small repaint a second.
 */
import { h, setText, svg } from './dom.js';

const WIDTH = 240;
const HEIGHT = 64;
const PAD = 3;

/** The last `capacity` samples of one figure, oldest first when read; NaN is a gap. */
export class Series {
  readonly #values: Float64Array;
  #next = 0;

  constructor(readonly capacity: number) {
    this.#values = new Float64Array(capacity).fill(Number.NaN);
  }

  /** Adds a sample (undefined: no figure this time), dropping the oldest. */
  push(value: number | undefined): void {
    this.#values[this.#next] = value ?? Number.NaN;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** The samples, oldest first. */
  values(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i += 1) out.push(this.#values[(this.#next + i) % this.capacity] ?? Number.NaN);
    return out;
  }

  /** The newest sample, or undefined. */
  latest(): number | undefined {
    const value = this.#values[(this.#next + this.capacity - 1) % this.capacity] ?? Number.NaN;
    return Number.isNaN(value) ? undefined : value;
  }
}

/** A round number at least `value`: the chart's top (1, 2 or 5 times a power of ten). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** The SVG path data of `values` in a box, with a gap wherever a value is NaN; and the filled area under it. */
export function chartPaths(values: readonly number[], top: number): { readonly line: string; readonly area: string } {
  const step = values.length > 1 ? WIDTH / (values.length - 1) : WIDTH;
  const y = (value: number): number => HEIGHT - PAD - (Math.max(0, value) / top) * (HEIGHT - 2 * PAD);
  const line: string[] = [];
  const area: string[] = [];
  let run: string[] = [];
  let runStart = 0;
  const closeRun = (end: number): void => {
    if (run.length > 1) area.push(`M${(runStart * step).toFixed(1)},${HEIGHT} L${run.join(' L')} L${((end - 1) * step).toFixed(1)},${HEIGHT} Z`);
    run = [];
  };
  values.forEach((value, index) => {
    if (Number.isNaN(value)) {
      closeRun(index);
      return;
    }
    const point = `${(index * step).toFixed(1)},${y(value).toFixed(1)}`;
    line.push(`${run.length === 0 ? 'M' : 'L'}${point}`);
    if (run.length === 0) runStart = index;
    run.push(point);
  });
  closeRun(values.length);
  return { line: line.join(' '), area: area.join(' ') };
}

/** One chart: a caption with the figure's name and newest value, and the SVG. */
export class LineChart {
  readonly element: HTMLElement;
  readonly #value: HTMLElement;
  readonly #top: SVGTextElement;
  readonly #line: SVGPathElement;
  readonly #area: SVGPathElement;
  readonly #format: (value: number | undefined) => string;

  /**
   * @param title what the chart shows, e.g. `calls/s`
   * @param format how a value reads
   */
  constructor(title: string, format: (value: number | undefined) => string) {
    this.#format = format;
    this.#value = h('span', { class: 'chart-value', text: format(undefined) });
    this.#top = svg('text', { x: String(WIDTH - 2), y: '10', 'text-anchor': 'end', class: 'chart-top' });
    this.#line = svg('path', { class: 'chart-line', d: '' });
    this.#area = svg('path', { class: 'chart-area', d: '' });
    const plot = svg(
      'svg',
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': title, class: 'chart-plot' },
      svg('line', { x1: '0', y1: String(HEIGHT - 0.5), x2: String(WIDTH), y2: String(HEIGHT - 0.5), class: 'chart-axis' }),
      this.#area,
      this.#line,
      this.#top,
    );
    this.element = h('figure', { class: 'chart', attrs: { 'data-chart': title } }, h('figcaption', {}, h('span', { class: 'chart-title', text: title }), this.#value), plot);
  }

  /** Draws `series`. */
  draw(series: Series | undefined): void {
    const values = series?.values() ?? [];
    const finite = values.filter((value) => !Number.isNaN(value));
    const top = niceCeiling(Math.max(0, ...finite));
    const paths = chartPaths(values, top);
    if (this.#line.getAttribute('d') !== paths.line) this.#line.setAttribute('d', paths.line);
    if (this.#area.getAttribute('d') !== paths.area) this.#area.setAttribute('d', paths.area);
    setText(this.#top, finite.length === 0 ? '' : this.#format(top));
    setText(this.#value, this.#format(series?.latest()));
  }
}
