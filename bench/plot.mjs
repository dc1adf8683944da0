// SVG plots for bench/RESULTS.md, drawn from bench/results/latest.json with no dependency
// and no browser: a log-log line chart (call latency by payload size) and a horizontal bar
// chart on a log scale (start latencies, p99 beside neighbours).

const W = 720;
const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const fmt = (value) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value >= 1 ? value.toFixed(2) : value.toPrecision(2));
const bytes = (size) => (size >= 1 << 20 ? `${size / 2 ** 20} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

/** Powers of ten spanning [min, max]. */
function decades(min, max) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) ticks.push(10 ** e);
  return ticks;
}

const svg = (height, body) => `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">\n<rect width="${W}" height="${height}" fill="white"/>\n${body.join('\n')}\n</svg>\n`;

/**
 * A log-log line chart. series: [{ name, points: [[x, y], ...] }]; x in bytes, y in `unit`.
 * @returns {string} the SVG document
 */
export function lineChart({ title, unit, series }) {
  const H = 440;
  const box = { left: 70, right: W - 190, top: 40, bottom: H - 50 };
  const points = series.flatMap((s) => s.points);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  const yTicks = decades(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = [Math.log10(xTicks[0]), Math.log10(xTicks.at(-1))];
  const [y0, y1] = [Math.log10(yTicks[0]), Math.log10(yTicks.at(-1))];
  const px = (x) => box.left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (box.right - box.left);
  const py = (y) => box.bottom - ((Math.log10(y) - y0) / (y1 - y0 || 1)) * (box.bottom - box.top);
  const body = [`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`];
  for (const y of yTicks) body.push(`<line x1="${box.left}" x2="${box.right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/><text x="${box.left - 6}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`);
  for (const x of xTicks) body.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${box.top}" y2="${box.bottom}" stroke="#eee"/><text x="${px(x)}" y="${box.bottom + 16}" text-anchor="middle">${esc(bytes(x))}</text>`);
  body.push(`<text x="${(box.left + box.right) / 2}" y="${H - 10}" text-anchor="middle">payload in and out (log)</text>`);
  body.push(`<text transform="translate(16 ${(box.top + box.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(unit)} per call, median (log)</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    body.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of sorted) body.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"><title>${esc(`${s.name}, ${bytes(x)}: ${fmt(y)} ${unit}`)}</title></circle>`);
    body.push(`<rect x="${box.right + 15}" y="${box.top + i * 20}" width="12" height="12" fill="${colour}"/><text x="${box.right + 32}" y="${box.top + i * 20 + 10}">${esc(s.name)}</text>`);
  });
  return svg(H, body);
}

/**
 * A horizontal bar chart on a log scale. bars: [{ label, value, low?, high? }] in `unit`;
 * low/high draw a whisker (the spread).
 * @returns {string} the SVG document
 */
export function barChart({ title, unit, bars }) {
  const row = 26;
  const H = 70 + bars.length * row;
  const box = { left: 300, right: W - 60, top: 40 };
  const values = bars.flatMap((b) => [b.value, b.low ?? b.value, b.high ?? b.value]).filter((v) => v > 0);
  const ticks = decades(Math.min(...values), Math.max(...values));
  const [v0, v1] = [Math.log10(ticks[0]), Math.log10(ticks.at(-1))];
  const px = (v) => box.left + ((Math.log10(Math.max(v, ticks[0])) - v0) / (v1 - v0 || 1)) * (box.right - box.left);
  const bottom = box.top + bars.length * row;
  const body = [`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`];
  for (const t of ticks) body.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${box.top}" y2="${bottom}" stroke="#ddd"/><text x="${px(t)}" y="${bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  body.push(`<text x="${(box.left + box.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(unit)} (log)</text>`);
  bars.forEach((b, i) => {
    const y = box.top + i * row;
    body.push(`<text x="${box.left - 8}" y="${y + 16}" text-anchor="end">${esc(b.label)}</text>`);
    body.push(`<rect x="${box.left}" y="${y + 5}" width="${Math.max(1, px(b.value) - box.left).toFixed(1)}" height="${row - 10}" fill="${COLOURS[i % COLOURS.length]}"><title>${esc(`${b.label}: ${fmt(b.value)} ${unit}`)}</title></rect>`);
    if (b.low !== undefined && b.high !== undefined) body.push(`<line x1="${px(b.low).toFixed(1)}" x2="${px(b.high).toFixed(1)}" y1="${y + row / 2}" y2="${y + row / 2}" stroke="black"/>`);
    body.push(`<text x="${(px(b.value) + 4).toFixed(1)}" y="${y + 16}" font-size="11">${fmt(b.value)}</text>`);
  });
  return svg(H, body);
}

const casesOf = (results, name) => results.benches.find((b) => b.name === name && b.status === 'ok')?.result?.cases ?? [];

/**
 * The report's plots from latest.json: { file, title, svg } for each that has data, and
 * { file, title, missing } (why not) for each that has none.
 */
export function plots(results) {
  const out = [];
  const sizes = (cases, id) => cases.filter((c) => c.id === id && c.size <= 1 << 20).map((c) => [c.size, c.median]);
  const abi = casesOf(results, 'abi-call');
  const pool = casesOf(results, 'pool');
  const series = [
    { name: 'ForgeOne inline', points: sizes(pool, 'inline') },
    { name: 'ForgeOne pool', points: sizes(pool, 'pool') },
    { name: 'ForgeOne forge/1 call', points: sizes(abi, 'ours') },
    { name: 'Extism, in-process', points: sizes(abi, 'extism') },
    { name: 'Extism, runInWorker', points: sizes(pool, 'extism_worker') },
    { name: 'raw export (floor)', points: sizes(abi, 'raw') },
  ].filter((s) => s.points.length > 0);
  const callsTitle = 'Call latency by payload size';
  out.push(series.length > 0 ? { file: 'calls.svg', title: callsTitle, svg: lineChart({ title: callsTitle, unit: 'us', series }) } : { file: 'calls.svg', title: callsTitle, missing: 'bench/abi-call.mjs and bench/pool.mjs did not run' });

  const bar = (label, c) => c && { label, value: c.median, low: c.min, high: c.max };
  const confine = casesOf(results, 'confine');
  const proc = casesOf(results, 'process');
  const start = casesOf(results, 'start');
  const find = (cases, id) => cases.find((c) => c.id === id);
  const startBars = [
    bar('node -e spawn (Node start, floor)', find(confine, 'node')),
    bar('bwrap --unshare-all /bin/true', find(confine, 'bwrap true')),
    bar('launchConfined, with cgroup', find(confine, 'confined')),
    bar('launchConfined, no cgroup', find(confine, 'confined, no cgroup')),
    bar('process backend, warm sandbox', find(proc, 'start: into a warm sandbox')),
    bar('process backend, cold sandbox', find(proc, 'start: into a cold sandbox')),
    ...casesOf(results, 'containers').filter((c) => c.id.startsWith('start: podman')).map((c) => bar(c.id.replace('start: ', ''), c)),
    bar('pool: load + start (in-process)', find(start, 'load + start')),
  ].filter(Boolean);
  const startTitle = 'Start latency per sandbox kind (median; whisker: min-max)';
  out.push(startBars.length > 0 ? { file: 'start.svg', title: startTitle, svg: barChart({ title: startTitle, unit: 'ms', bars: startBars }) } : { file: 'start.svg', title: startTitle, missing: 'no start benchmark ran' });

  const neighbours = pool.filter((c) => c.group === 'neighbour').map((c) => ({ label: c.id.replace('neighbour: ', ''), value: c.p99 }));
  const nTitle = "p99 of a well-behaved plugin's 16 B call beside neighbours";
  out.push(neighbours.length > 0 ? { file: 'neighbours.svg', title: nTitle, svg: barChart({ title: nTitle, unit: 'us', bars: neighbours }) } : { file: 'neighbours.svg', title: nTitle, missing: 'bench/pool.mjs did not run' });
  return out;
}
