import { ForgeError } from '../errors/index.js';

/** How a telemetry event's value is meant to be aggregated. */
export const MetricType = {
  /** A count that only goes up; `value` is the increment. */
  Counter: 'counter',
  /** A level that goes up and down; `value` is the new level. */
  Gauge: 'gauge',
  /** A distribution of observations (durations, sizes); `value` is one observation. */
  Histogram: 'histogram',
  /** A discrete occurrence (a lifecycle transition, a security finding); `value` is usually 1. */
  Event: 'event',
} as const;

/** One of the {@link MetricType} values. */
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** Event labels: low-cardinality key/value pairs (plugin name, state, syscall). */
export type Labels = Readonly<Record<string, string>>;

const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
const LABEL_KEY = /^[a-z_][a-z0-9_]*$/;
const MAX_LABELS = 32;
const MAX_LABEL_VALUE = 256;

/**
 * One telemetry observation, e.g.
 * `new TelemetryEvent('plugin.lifecycle.start', MetricType.Counter, 1, { plugin_name: 'x' })`.
 *
 * @throws ForgeError FO_TELEMETRY_INVALID for a name that is not dotted lower-case
 *   words, a non-finite value, more than 32 labels, a bad label key or a label value
 *   over 256 characters.
 */
export class TelemetryEvent {
  readonly name: string;
  readonly metricType: MetricType;
  readonly value: number;
  readonly labels: Labels;
  /** Milliseconds since the Unix epoch when the event was created. */
  readonly timestamp: number;

  constructor(
    name: string,
    metricType: MetricType,
    value: number,
    labels: Labels | readonly (readonly [string, string])[] = {},
    timestamp: number = Date.now(),
  ) {
    const entries = Array.isArray(labels) ? (labels as readonly (readonly [string, string])[]) : Object.entries(labels as Labels);
    const problem = validateEvent(name, value, entries);
    if (problem !== undefined) throw new ForgeError('FO_TELEMETRY_INVALID', `telemetry event ${JSON.stringify(name.slice(0, 80))}: ${problem}`);
    this.name = name;
    this.metricType = metricType;
    this.value = value;
    this.labels = Object.freeze(Object.fromEntries(entries));
    this.timestamp = timestamp;
    Object.freeze(this);
  }
}

function validateEvent(name: string, value: number, labels: readonly (readonly [string, string])[]): string | undefined {
  if (!NAME.test(name) || name.length > 128) return 'the name must be dotted lower-case words (e.g. plugin.lifecycle.start)';
  if (!Number.isFinite(value)) return `the value must be a finite number, found ${value}`;
  if (labels.length > MAX_LABELS) return `at most ${MAX_LABELS} labels are allowed, found ${labels.length}`;
  for (const [key, labelValue] of labels) {
    if (!LABEL_KEY.test(key)) return `label key ${JSON.stringify(key)} must be lower-case letters, digits and _`;
    if (typeof labelValue !== 'string' || labelValue.length > MAX_LABEL_VALUE) {
      return `label ${key} must be a string of at most ${MAX_LABEL_VALUE} characters`;
    }
  }
  return undefined;
}
