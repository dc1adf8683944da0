// Order statistics shared by the benchmarks: median, p90 and the range of a set of timings,
// printed on one line under a label; and the pieces of the `--json` output bench/run.mjs
// collects (bench/README.md, "The suite").
import { readFileSync } from 'node:fs';

/** Median, p90, min and max of `values`. */
export const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9), min: sorted[0], max: sorted.at(-1) };
};

/** Prints `label` with the statistics of `values` in `unit`; returns the median. */
export const show = (label, values, unit = 'ms', width = 46) => {
  const s = stats(values);
  console.log(`  ${label.padEnd(width)} median ${s.median.toFixed(3)} ${unit}  p90 ${s.p90.toFixed(3)}  (min ${s.min.toFixed(3)}, max ${s.max.toFixed(3)})`);
  return s.median;
};

/**
 * One case of a benchmark's JSON output: `values` summarised as median, min, max and count,
 * plus p90 and p99 when `perCall` (the values are single operations, not means over rounds,
 * so their tail means something). Extra fields (label, size...) are copied in.
 */
export const benchCase = (id, unit, values, { perCall = false, ...extra } = {}) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { id, unit, median: at(0.5), ...(perCall ? { p90: at(0.9), p99: at(0.99) } : {}), min: sorted[0], max: sorted.at(-1), n: sorted.length, ...extra };
};

/** A case from one already computed value (a rate over a whole run, a memory figure). */
export const singleCase = (id, unit, value, extra = {}) => ({ id, unit, median: value, min: value, max: value, n: 1, ...extra });

/**
 * Adds to every case of `cases` with the same `group` (or to all, without groups) its ratio
 * to the anchor case `anchorId`: median / the anchor's median. Returns `cases`.
 */
export const withRatios = (cases, anchorId, group = undefined) => {
  const anchor = cases.find((c) => c.id === anchorId && (group === undefined || c.group === group));
  if (anchor === undefined) return cases;
  for (const c of cases) if (group === undefined || c.group === group) Object.assign(c, { anchor: anchorId, ratio: c.median / anchor.median });
  return cases;
};

/**
 * For `--json`: sends console.log (the human-readable lines) to stderr and returns a function
 * writing the one JSON object to stdout; undefined without `--json`.
 */
export const jsonOutput = (asJson = process.argv.includes('--json')) => {
  if (!asJson) return undefined;
  const write = process.stdout.write.bind(process.stdout);
  console.log = (...args) => console.error(...args);
  return (report) => write(`${JSON.stringify({ node: process.version, ...report })}\n`);
};

// CPU time of this process's main thread, in ns, from /proc on Linux (undefined elsewhere):
// 10 ms ticks, so summed over runs. Wall time on a loaded machine is mostly waiting for a
// core; this is what the work costs the caller.
export const threadCpuNs = () => {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1e9 / 100);
  } catch {
    return undefined;
  }
};
