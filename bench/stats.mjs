// Order statistics shared by the benchmarks: median, p90 and the range of a set of timings,
// printed on one line under a label.

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
