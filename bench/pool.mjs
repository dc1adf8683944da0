#!/usr/bin/env node
// The pool backend (plugins on worker threads), side by side with its anchors:
//
//   calls      one call of a plugin's `echo` export, 16 B in and out (and 256 B to 4 MiB),
//              awaited one after another:
//                pool            PoolBackend with its defaults (host spins up to 50 us for
//                                the answer, workers spin 50 us for the next request)
//                pool, parked    PoolBackend with fastWaitUs: 0 and workerSpinUs: 0 (every
//                                wait parks the thread; the host waits in its event loop)
//                pool, sizes alternate   (64 KiB and 1 MiB only) the pool's defaults with
//                                answers one byte shorter every other call: the host never
//                                prepares the answer's array (sandbox/pool-answer.ts)
//                inline          InlineBackend (the same plugin on the host thread)
//                extism worker   @extism/extism createPlugin(..., { runInWorker: true }) on
//                                bench/fixtures/extism-echo.wat
//              Rounds of the cases are interleaved; each figure is the median over rounds
//              of the mean time per call within a round.
//
//   idle       N tiny plugins (default 10,000) loaded into one pool and called once each,
//              then left idle: process RSS before and after, per plugin. Extism gives
//              every plugin its own worker (runInWorker): measured on a few dozen plugins
//              and extrapolated linearly to N.
//
//   neighbour  a well-behaved plugin called in a loop (16 B echo; per-call latency
//              p50/p99) while a neighbour in the same worker misbehaves:
//                alone           no neighbour
//                spinner         a plugin whose call loops until its fuel runs out, re-loaded
//                                and called again as soon as it fails (a restart policy with
//                                no back-off), with isolateBusy off: it stays on the worker
//                busy            a neighbour whose every call does ~2 ms of legitimate work
//                                (within its fuel; calibrated at start), called back to back,
//                                same worker
//                CPU-bound thread    a plain thread outside the pool looping: the floor for
//                                any neighbour that burns a core beside the good plugin
//                both cores busy one CPU-bound process per core (other programs on the
//                                machine, default priority): issue 16's "both cores busy";
//                                also with every wait parked (fastWaitUs 0, workerSpinUs 0),
//                                what the spin governor (sandbox/spin-governor.ts) falls back to;
//                                and with the workers at nice -10 and not spinning (workerNice,
//                                workerSpinUs 0: needs CAP_SYS_NICE; left out where refused)
//                spinner, isolated   the spinner with the pool's defaults: after its first
//                                fuel exhaustion each re-load goes to the isolation worker
//
// Usage: npm run build && node bench/pool.mjs [--quick] [--json] [--only calls|idle|neighbour]
//        [--plugins N] [--extism-workers N]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import createPlugin from '@extism/extism';
import { benchCase, withRatios } from './stats.mjs';
import wabtInit from 'wabt';
// Internals, by built path: not part of the public API (bench/README.md).
import { InlineBackend, PoolBackend } from '../packages/plugin-manager/dist/sandbox/index.js';
import { CORE_GUEST, u32 } from '../packages/plugin-manager/dist/sandbox/test-support/guests.js';
import { RecordingHost, pluginSpec } from '../packages/plugin-manager/dist/sandbox/test-support/specs.js';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const quick = flag('--quick');
const asJson = flag('--json');
const only = option('--only', undefined);
const PLUGINS = Number(option('--plugins', quick ? 2000 : 10_000));
const EXTISM_WORKERS = Number(option('--extism-workers', quick ? 8 : 32));
const ROUNDS = quick ? 7 : 21;
const report = { node: process.version, cores: availableParallelism(), rounds: ROUNDS, cases: [] };
const CALL_SIZES = [16, 256, 4096, 65_536, 1 << 20, 4 << 20];
// Calls per round by size, [fast case, Extism in a worker].
const PER_ROUND = { 16: [3000, 300], 256: [3000, 300], 4096: [2000, 100], 65536: [500, 10], [1 << 20]: [50, 2], [4 << 20]: [10, 1] };

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
const log = (text) => {
  if (!asJson) process.stdout.write(`${text}\n`);
};

const wabt = await wabtInit();
const extismWasm = (() => {
  const parsed = wabt.parseWat('extism-echo.wat', readFileSync(fileURLToPath(new URL('fixtures/extism-echo.wat', import.meta.url)), 'utf8'));
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
})();
const extism = (runInWorker) => createPlugin({ wasm: [{ data: extismWasm }] }, { useWasi: false, runInWorker, logger: { ...console, debug() {}, info() {} } });

// --- calls ---------------------------------------------------------------------------

async function calls() {
  const host = new RecordingHost();
  const pool = new PoolBackend(host);
  const parked = new PoolBackend(host, { fastWaitUs: 0, workerSpinUs: 0 });
  const bigSlot = new PoolBackend(host, { slotBytes: 8 << 20 });
  const inline = new InlineBackend(host);
  const spec = await pluginSpec(CORE_GUEST);
  const handles = { pool: await pool.load(spec), parked: await parked.load(spec), bigSlot: await bigSlot.load(spec), inline: await inline.load(spec) };
  // Diagnostic: answers whose size changes every call, so the host never prepares the answer's array (sandbox/pool-answer.ts).
  handles.varying = await pool.load(await pluginSpec(CORE_GUEST, { id: 'varying-sizes' }));
  const callsBySize = new Map(); // the first call of each size (the echo check) is whole
  const worker = await extism(true);
  const cases = [
    { id: 'pool', label: 'pool (defaults)', call: (input) => handles.pool.call('echo', input) },
    { id: 'pool_parked', label: 'pool, parked waits', call: (input) => handles.parked.call('echo', input) },
    { id: 'pool_8mib_slot', label: 'pool, 8 MiB slot', call: (input) => handles.bigSlot.call('echo', input), sizes: [1 << 20, 4 << 20] },
    {
      id: 'pool_sizes_vary',
      label: 'pool, sizes alternate (no prepared answer)',
      call: (input) => {
        const n = (callsBySize.get(input.length) ?? 0) + 1;
        callsBySize.set(input.length, n);
        return handles.varying.call('echo', n % 2 === 1 ? input : input.subarray(1));
      },
      sizes: [65_536, 1 << 20],
    },
    { id: 'inline', label: 'inline', call: (input) => handles.inline.call('echo', input) },
    { id: 'extism_worker', label: 'extism runInWorker', call: async (input) => (await worker.call('echo', input)).bytes(), slow: true },
  ];
  const results = [];
  for (const size of CALL_SIZES) {
    const input = new Uint8Array(size);
    for (let i = 0; i < size; i += 1) input[i] = (i * 7 + 3) & 0xff;
    const active = cases.filter((c) => c.sizes === undefined || c.sizes.includes(size)).filter((c) => !(c.slow && size > 1 << 20));
    for (const c of active) {
      const output = await c.call(input);
      if (output.length !== size || output.some((byte, i) => byte !== input[i])) throw new Error(`${c.id} does not echo ${size} bytes`);
    }
    const perRound = (c) => Math.max(1, Math.round(PER_ROUND[size][c.slow ? 1 : 0] / (quick ? 3 : 1)));
    const samples = new Map(active.map((c) => [c.id, []]));
    for (const c of active) for (let i = 0; i < perRound(c); i += 1) await c.call(input); // warm up
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const c of active) {
        const n = perRound(c);
        const started = process.hrtime.bigint();
        for (let i = 0; i < n; i += 1) await c.call(input);
        samples.get(c.id).push(Number(process.hrtime.bigint() - started) / n / 1000);
        if (c.slow) await worker.reset();
      }
    }
    for (const c of active) {
      const us = samples.get(c.id);
      results.push({ size, id: c.id, label: c.label, median_us: median(us), min_us: Math.min(...us), max_us: Math.max(...us) });
      report.cases.push(benchCase(c.id, 'us', us, { label: `${c.label}, ${size} B`, group: `${size}`, size }));
    }
  }
  await Promise.all([pool.close(), parked.close(), bigSlot.close(), inline.close(), worker.close()]);
  report.calls = results;
  for (const size of CALL_SIZES) withRatios(report.cases, 'inline', `${size}`);
  log(`\ncalls: microseconds per call, median of ${ROUNDS} interleaved rounds (node ${process.version}, ${availableParallelism()} cores)`);
  for (const size of CALL_SIZES) {
    const rows = results.filter((r) => r.size === size);
    const pool16 = rows.find((r) => r.id === 'pool')?.median_us;
    log(`  ${size < 1024 ? `${size} B` : size < 1 << 20 ? `${size / 1024} KiB` : `${size / 2 ** 20} MiB`} in and out`);
    for (const r of rows) log(`    ${r.label.padEnd(24)}${r.median_us.toFixed(2).padStart(10)}   (min ${r.min_us.toFixed(2)}, max ${r.max_us.toFixed(2)})${pool16 && r.id !== 'pool' ? `   ${(r.median_us / pool16).toFixed(1)}x pool` : ''}`);
  }
}

// --- idle plugins -------------------------------------------------------------------

async function idle() {
  const host = new RecordingHost();
  const pool = new PoolBackend(host);
  const warm = await pool.load(await pluginSpec(CORE_GUEST, { id: 'warm-up' }));
  await warm.call('echo', new Uint8Array(16));
  await settle();
  const before = rssMiB();
  const handles = [];
  const loadMs = [];
  const started = performance.now();
  for (let i = 0; i < PLUGINS; i += 1) {
    const spec = await pluginSpec(CORE_GUEST, { id: `idle-${i}` });
    const t = performance.now();
    const handle = await pool.load(spec);
    loadMs.push(performance.now() - t);
    await handle.call('echo', new Uint8Array(16));
    handles.push(handle);
  }
  const elapsed = performance.now() - started;
  await settle();
  const after = rssMiB();
  // Still alive and answering.
  for (const handle of [handles[0], handles[Math.floor(PLUGINS / 2)], handles.at(-1)]) {
    const out = await handle.call('echo', new TextEncoder().encode('alive'));
    if (new TextDecoder().decode(out) !== 'alive') throw new Error('an idle plugin does not answer');
  }
  const workers = pool.workers();
  await pool.close();

  // Extism: one worker per plugin.
  const plugins = [];
  await settle();
  const extBefore = rssMiB();
  for (let i = 0; i < EXTISM_WORKERS; i += 1) {
    const plugin = await extism(true);
    await plugin.call('echo', new Uint8Array(16));
    plugins.push(plugin);
  }
  await settle();
  const extAfter = rssMiB();
  await Promise.all(plugins.map((plugin) => plugin.close()));

  const perPluginKiB = ((after - before) * 1024) / PLUGINS;
  const extismPerMiB = (extAfter - extBefore) / EXTISM_WORKERS;
  const sortedLoads = [...loadMs].sort((x, y) => x - y);
  report.idle = {
    plugins: PLUGINS,
    workers: workers.map((w) => w.plugins),
    rss_before_mib: before,
    rss_after_mib: after,
    rss_total_mib: after,
    rss_delta_mib: after - before,
    per_plugin_kib: perPluginKiB,
    load_ms_p50: percentile(sortedLoads, 50),
    load_ms_p99: percentile(sortedLoads, 99),
    load_all_s: elapsed / 1000,
    extism_workers: EXTISM_WORKERS,
    extism_per_plugin_mib: extismPerMiB,
    extism_extrapolated_gib: (extismPerMiB * PLUGINS) / 1024,
  };
  report.cases.push({ id: 'idle: per plugin', unit: 'KiB', median: perPluginKiB, min: perPluginKiB, max: perPluginKiB, n: 1, group: 'idle' });
  report.cases.push({ id: 'idle: extism, one worker per plugin', unit: 'KiB', median: extismPerMiB * 1024, min: extismPerMiB * 1024, max: extismPerMiB * 1024, n: 1, group: 'idle' });
  withRatios(report.cases, 'idle: per plugin', 'idle');
  log(`\nidle: ${PLUGINS} plugins in one pool (${workers.length} workers holding ${workers.map((w) => w.plugins).join(' + ')})`);
  log(`  RSS ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after: ${perPluginKiB.toFixed(1)} KiB per plugin (process total ${(after / 1024).toFixed(2)} GiB)`);
  log(`  load: p50 ${report.idle.load_ms_p50.toFixed(2)} ms, p99 ${report.idle.load_ms_p99.toFixed(2)} ms; all ${PLUGINS} loaded and called in ${(elapsed / 1000).toFixed(1)} s`);
  log(`  extism, one worker per plugin: ${extismPerMiB.toFixed(1)} MiB per plugin over ${EXTISM_WORKERS} plugins; ${PLUGINS} would take ~${report.idle.extism_extrapolated_gib.toFixed(1)} GiB`);
}

// --- a misbehaving neighbour --------------------------------------------------------

async function neighbour() {
  const SEGMENTS = quick ? 6 : 20;
  const CALLS_PER_SEGMENT = quick ? 300 : 1000;
  const SPIN_FUEL = 20_000_000n;
  const size = availableParallelism();
  const input = new Uint8Array(16);
  // Loops for the busy neighbour: calibrated to ~2 ms of work per call below.
  let busyLoops = 200_000;

  // Calibrate the busy neighbour's loop count to ~2 ms per call (fastest of 9, inline).
  {
    const inline = new InlineBackend(new RecordingHost());
    const handle = await inline.load(await pluginSpec(CORE_GUEST, { fuel: 1_000_000_000n }));
    await handle.call('work', u32(busyLoops));
    let fastest = Infinity;
    for (let i = 0; i < 9; i += 1) {
      const t = performance.now();
      await handle.call('work', u32(busyLoops));
      fastest = Math.min(fastest, performance.now() - t);
    }
    busyLoops = Math.max(1000, Math.round((busyLoops * 2) / fastest));
    await inline.close();
  }

  // Each driver runs its neighbour until `stop.now`, then reports what it did.
  const spinner = (pool, stop, stats) =>
    (async () => {
      const spec = await pluginSpec(CORE_GUEST, { id: 'spinner', fuel: SPIN_FUEL });
      while (!stop.now) {
        const handle = await pool.load(spec);
        if (pool.workerOf(handle) === pool.workerOf(stats.good)) stats.sameWorker += 1;
        const t = performance.now();
        await handle.call('spin', new Uint8Array(0)).catch(() => undefined);
        stats.ms += performance.now() - t;
        stats.count += 1;
        await handle.unload();
      }
    })();
  const busy = (pool, stop, stats) =>
    (async () => {
      stats.handle ??= await pool.load(await pluginSpec(CORE_GUEST, { id: 'busy', fuel: 1_000_000_000n }));
      while (!stop.now) {
        const t = performance.now();
        await stats.handle.call('work', u32(busyLoops));
        stats.ms += performance.now() - t;
        stats.count += 1;
      }
    })();
  // The floor: a thread outside the pool burning a core (what any busy neighbour costs
  // once it runs beside, not inside, the good plugin's worker).
  const hog = (_pool, stop) =>
    (async () => {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const thread = new Worker('const { workerData } = require("node:worker_threads"); const f = new Int32Array(workerData); let x = 0; while (Atomics.load(f, 0) === 0) x += 1;', { eval: true, workerData: flag.buffer });
      while (!stop.now) await new Promise((resolve) => setTimeout(resolve, 2));
      Atomics.store(flag, 0, 1);
      await thread.terminate();
    })();

  // Both cores busy: one CPU-bound process per core at the default priority (other work on
  // the machine, not ForgeOne's), started once and stopped (SIGSTOP) between segments.
  const hogProcesses = [];
  const cores = (_pool, stop) =>
    (async () => {
      if (hogProcesses.length === 0) {
        for (let i = 0; i < availableParallelism(); i += 1) hogProcesses.push(spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
        await new Promise((resolve) => setTimeout(resolve, 300)); // Node's start
      }
      for (const child of hogProcesses) child.kill('SIGCONT');
      while (!stop.now) await new Promise((resolve) => setTimeout(resolve, 2));
      for (const child of hogProcesses) child.kill('SIGSTOP');
    })();

  const cases = [
    { name: 'alone', options: { size } },
    { name: 'a CPU-bound thread outside the pool', options: { size }, driver: hog },
    { name: 'both cores busy (a CPU-bound process per core)', options: { size }, driver: cores },
    { name: 'both cores busy, every wait parked (fastWaitUs 0, workerSpinUs 0)', options: { size, fastWaitUs: 0, workerSpinUs: 0 }, driver: cores },
    // Needs CAP_SYS_NICE (or RLIMIT_NICE): left out, and said so, where the pool refuses it.
    { name: 'both cores busy, workers at nice -10, no worker spin (workerNice -10, workerSpinUs 0)', options: { size, workerNice: -10, workerSpinUs: 0 }, driver: cores, optional: true },
    { name: 'spinner, same worker (isolateBusy off)', options: { size, isolateBusy: false }, driver: spinner },
    { name: 'busy neighbour (~2 ms calls), same worker', options: { size, isolateBusy: false }, driver: busy },
    { name: 'spinner, pool defaults (isolated)', options: { size }, driver: spinner },
  ];
  for (const c of [...cases]) {
    try {
      c.pool = new PoolBackend(new RecordingHost(), c.options);
    } catch (error) {
      if (!c.optional || error?.code !== 'FO_SANDBOX_BAD_OPTION') throw error;
      log(`  (left out: ${c.name}: ${error.message})`);
      cases.splice(cases.indexOf(c), 1);
      continue;
    }
    c.good = await c.pool.load(await pluginSpec(CORE_GUEST, { id: 'good' }));
    // A filler on every other regular worker, so the neighbour starts on the good plugin's worker.
    for (let i = 1; i < size; i += 1) await c.pool.load(await pluginSpec(CORE_GUEST, { id: `filler-${i}` }));
    for (let i = 0; i < 2000; i += 1) await c.good.call('echo', input);
    c.stats = { good: c.good, count: 0, ms: 0, sameWorker: 0 };
    c.latencies = [];
  }
  // Segments of the cases alternate, so the machine's noise falls on all of them alike.
  for (let segment = 0; segment < SEGMENTS; segment += 1) {
    for (const c of cases) {
      const stop = { now: false };
      const running = c.driver === undefined ? Promise.resolve() : c.driver(c.pool, stop, c.stats);
      await new Promise((resolve) => setTimeout(resolve, 5)); // let the neighbour get going
      for (let i = 0; i < CALLS_PER_SEGMENT; i += 1) {
        const t = process.hrtime.bigint();
        await c.good.call('echo', input);
        c.latencies.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      stop.now = true;
      await running;
    }
  }
  for (const child of hogProcesses) child.kill('SIGKILL');
  const rows = [];
  for (const c of cases) {
    const sorted = [...c.latencies].sort((x, y) => x - y);
    rows.push({ name: c.name, p50_us: percentile(sorted, 50), p99_us: percentile(sorted, 99), max_us: sorted.at(-1), neighbour_calls: c.stats.count, neighbour_call_ms: c.stats.count === 0 ? 0 : c.stats.ms / c.stats.count, spins_on_good_worker: c.stats.sameWorker, workers: c.pool.workers().map((w) => `${w.isolation ? 'isolation' : w.id}:${w.plugins}`).join(' ') });
    await c.pool.close();
  }
  const base = rows[0];
  for (const c of cases) report.cases.push(benchCase(`neighbour: ${c.name}`, 'us', c.latencies, { perCall: true, group: 'neighbour' }));
  withRatios(report.cases, 'neighbour: alone', 'neighbour');
  report.neighbour = { segments: SEGMENTS, calls: SEGMENTS * CALLS_PER_SEGMENT, spin_fuel: SPIN_FUEL.toString(), rows: rows.map((row) => ({ ...row, p99_vs_alone: row.p99_us / base.p99_us })) };
  log(`\nneighbour: a well-behaved plugin's call latency (16 B echo, ${SEGMENTS} interleaved segments of ${CALLS_PER_SEGMENT} calls per case, ${size} regular workers; spinner fuel ${SPIN_FUEL})`);
  for (const row of report.neighbour.rows) {
    const extra = row.name.startsWith('spinner')
      ? `; spinner loaded ${row.neighbour_calls}x, ${row.spins_on_good_worker} on the good plugin's worker, ${row.neighbour_call_ms.toFixed(1)} ms per spin`
      : row.name.startsWith('busy')
        ? `; ${row.neighbour_calls} busy calls of ${row.neighbour_call_ms.toFixed(2)} ms`
        : '';
    log(`  ${row.name.padEnd(42)} p50 ${row.p50_us.toFixed(1).padStart(7)} us   p99 ${row.p99_us.toFixed(1).padStart(8)} us   (${row.p99_vs_alone.toFixed(1)}x alone)   max ${(row.max_us / 1000).toFixed(1)} ms${extra}`);
  }
}

if (only === undefined || only === 'calls') await calls();
if (only === undefined || only === 'idle') await idle();
if (only === undefined || only === 'neighbour') await neighbour();
if (asJson) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
