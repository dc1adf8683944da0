#!/usr/bin/env node
// A Prometheus scrape of a registry with 1,000 loaded plugins, against prom-client
// rendering the same series by itself (the floor), side by side.
// Run: npm run build && node bench/metrics.mjs [PLUGINS] [ROUNDS] [--quick] [--json]   (--quick: 200 plugins, 10 rounds)
//
// Setup (not timed): PLUGINS packages of the sample plugin under distinct names, loaded
// into one PluginRegistry (worker pool, signatures off: the scrape is measured, not the
// verification) and started; each called 3 times, so every plugin has its call counter,
// latency histogram (22 buckets), fuel counter, memory gauge, info and restart series.
// The daemon's metrics (createMetrics) observe that registry, and its metrics listener
// (serveMetrics, what `forge daemon` serves on telemetry.prometheus_listen) serves them.
// The floor: a bare prom-client Registry with the same metric families, labels and values,
// filled once, with no collect() callbacks and no process metrics.
// Timed, rounds alternating between the cases, median and p90 of ROUNDS (default 40):
//  - metricsText(): what one scrape computes (host-call counts flushed, unloaded plugins'
//    series dropped, the state, info and restart gauges collected from the registry's list,
//    process metrics, the text rendered);
//  - GET over HTTP from the metrics listener (the same, plus HTTP on loopback);
//  - the floor's registry.metrics().
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCase, jsonOutput, withRatios } from './stats.mjs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseConfig } from '../packages/common/dist/index.js';
import { CALL_SECONDS_BUCKETS, PluginRegistry, createMetrics } from '../packages/plugin-manager/dist/index.js';
import { packDirectory } from '../packages/plugin-manager/dist/signing.js';
import { serveMetrics } from '../packages/forge/dist/daemon/metrics-listener.js';

const emit = jsonOutput();
const positional = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const count = Number(positional[0] ?? (process.argv.includes('--quick') ? 200 : 1000));
const rounds = Number(positional[1] ?? (process.argv.includes('--quick') ? 10 : 40));
const sample = fileURLToPath(new URL('../examples/sample-plugin', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'forge-bench-metrics-'));
const wasm = await readFile(join(sample, 'plugin.wasm'));
const toml = await readFile(join(sample, 'plugin.toml'), 'utf8');

const config = parseConfig(
  `plugin_manager:\n  plugin_directory: plugins\n  temp_directory: tmp\n  max_plugins: ${Math.max(count, 1000)}\n  security:\n    verify_signatures: false\n    namespace_isolation: false\n  runtime:\n    backend: pool\n`,
  { name: 'bench.yaml', baseDir: dir },
);
const registry = await PluginRegistry.create(config, { configDir: dir, audit: false });
const metrics = createMetrics({ metrics_enabled: true }, registry);
const listener = await serveMetrics(metrics, '127.0.0.1:0', '/metrics', { error: console.error });

process.stderr.write(`loading ${count} plugins`);
const ids = [];
for (let i = 0; i < count; i += 1) {
  const name = `plugin-${String(i).padStart(4, '0')}`;
  const src = join(dir, 'src', name);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'plugin.toml'), toml.replace('name = "sample-plugin"', `name = "${name}"`));
  await writeFile(join(src, 'plugin.wasm'), wasm);
  const packed = await packDirectory(src);
  const id = await registry.loadPlugin(packed.bytes);
  await registry.startPlugin(id);
  for (let call = 0; call < 3; call += 1) await registry.call(id, 'greet', Buffer.from(name));
  ids.push(id);
  if (i % 100 === 99) process.stderr.write('.');
}
process.stderr.write(' done\n');

// The floor: the same families and series in a bare prom-client registry.
const floor = new Registry();
const registers = [floor];
const plugins = new Gauge({ name: 'forgeone_plugins', help: 'h', labelNames: ['state'], registers });
const info = new Gauge({ name: 'forgeone_plugin_info', help: 'h', labelNames: ['plugin', 'publisher', 'version', 'digest'], registers });
const restarts = new Counter({ name: 'forgeone_plugin_restarts_total', help: 'h', labelNames: ['plugin'], registers });
const calls = new Counter({ name: 'forgeone_plugin_calls_total', help: 'h', labelNames: ['plugin'], registers });
const seconds = new Histogram({ name: 'forgeone_plugin_call_duration_seconds', help: 'h', labelNames: ['plugin'], buckets: [...CALL_SECONDS_BUCKETS], registers });
const fuel = new Counter({ name: 'forgeone_plugin_fuel_consumed_total', help: 'h', labelNames: ['plugin'], registers });
const memory = new Gauge({ name: 'forgeone_plugin_memory_bytes', help: 'h', labelNames: ['plugin'], registers });
plugins.set({ state: 'running' }, count);
for (const plugin of registry.list()) {
  const labels = { plugin: plugin.id };
  info.set({ plugin: plugin.id, publisher: plugin.publisher, version: plugin.version, digest: plugin.digest }, 1);
  restarts.inc(labels, 0);
  calls.inc(labels, 3);
  for (const value of [2e-5, 3e-5, 4e-5]) seconds.observe(labels, value);
  fuel.inc(labels, 300);
  memory.set(labels, 65536);
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const sorted = (values) => [...values].sort((a, b) => a - b);
const median = (values) => sorted(values)[Math.floor(values.length / 2)];
const p90 = (values) => sorted(values)[Math.floor(values.length * 0.9)];

const times = { text: [], http: [], floor: [] };
let sizes = {};
for (let round = 0; round < rounds + 3; round += 1) {
  let start = process.hrtime.bigint();
  const text = await metrics.metricsText();
  const textMs = ms(start);
  start = process.hrtime.bigint();
  const body = await (await fetch(listener.url)).text();
  const httpMs = ms(start);
  start = process.hrtime.bigint();
  const floorText = await floor.metrics();
  const floorMs = ms(start);
  if (round < 3) continue; // warm-up
  times.text.push(textMs);
  times.http.push(httpMs);
  times.floor.push(floorMs);
  sizes = { text: text.length, body: body.length, floor: floorText.length, series: text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length, floorSeries: floorText.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length };
}
await listener.close();
metrics.close();
await registry.close();

const row = (label, values) => `  ${label.padEnd(58)} median ${median(values).toFixed(2).padStart(7)} ms, p90 ${p90(values).toFixed(2).padStart(7)} ms`;
console.log(`a scrape with ${count} plugins loaded and running (node ${process.version}, ${rounds} rounds)`);
console.log(`  ${sizes.series} series, ${(sizes.text / 1024).toFixed(0)} KiB of text (the floor: ${sizes.floorSeries} series, ${(sizes.floor / 1024).toFixed(0)} KiB)`);
console.log(row('metricsText() (what the metrics listener computes)', times.text));
console.log(row('GET /metrics from the metrics listener (loopback HTTP)', times.http));
console.log(row('floor: prom-client rendering the same families alone', times.floor));
console.log(`  metricsText / floor: ${(median(times.text) / median(times.floor)).toFixed(2)}x`);
emit?.({
  plugins: count,
  rounds,
  series: sizes.series,
  textBytes: sizes.text,
  cases: withRatios([benchCase('metricsText()', 'ms', times.text, { perCall: true }), benchCase('GET /metrics over loopback HTTP', 'ms', times.http, { perCall: true }), benchCase('floor: prom-client alone', 'ms', times.floor, { perCall: true })], 'floor: prom-client alone'),
});
