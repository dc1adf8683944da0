#!/usr/bin/env node
// Cancelling a pool call that sleeps, and what it costs the plugins beside it.
//
// One pool worker (size 1) hosts a well-behaved neighbour (CORE_GUEST, an in-memory counter)
// and, in turn, fresh sleepers (WASI_GUEST `sleep`: poll_oneoff on a clock subscription of
// 60 s, far longer than the sleeper's --timeout-ms limit). For every sleeper:
//
//   after deadline   when its call rejected with FO_SANDBOX_TIMEOUT, in ms after its deadline
//                    (the call's start + its limit); p50/p99 over the sleepers
//   neighbour gap    from that rejection until the neighbour's next call answered, in ms:
//                    how long the worker's other plugins were unavailable
//   state kept       whether that call's counter went on from the one before (the
//                    neighbour kept its linear memory) or started over (re-created)
//
// The neighbour's call is made the moment the sleeper's call rejects. With --compare DIR
// (another build's packages/plugin-manager/dist, e.g. the one before cancellation in place,
// copied aside with a node_modules link beside it) the same rounds run against both builds,
// interleaved, and the JSON holds both ("old build: ..." cases).
//
// Not measured: a wait inside a blocking host call served by the host thread (the host
// thread is then busy and no timer can fire, in either build), and the process backend
// (its workers relay to a sandbox process; cancellation there still replaces the worker).
//
// Usage: npm run build && node bench/cancel.mjs [--quick] [--json] [--rounds N]
//        [--timeout-ms MS] [--compare DIR]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchCase } from './stats.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (flag(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = flag('--quick');
const json = flag('--json');
const rounds = Number(option('--rounds') ?? (quick ? 25 : 150));
const timeoutMs = Number(option('--timeout-ms') ?? 50);
const compare = option('--compare');

const NOTHING = new Uint8Array(0);
const here = new URL('../packages/plugin-manager/dist/', import.meta.url);

async function build(label, dist) {
  const base = dist.href.endsWith('/') ? dist : new URL(`${dist.href}/`);
  const { PoolBackend } = await import(new URL('sandbox/index.js', base).href);
  const { CORE_GUEST, WASI_GUEST, u32, readI32 } = await import(new URL('sandbox/test-support/guests.js', base).href);
  const { RecordingHost, pluginSpec } = await import(new URL('sandbox/test-support/specs.js', base).href);
  const backend = new PoolBackend(new RecordingHost(), { size: 1 });
  const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
  const sleeperSpec = () => pluginSpec(WASI_GUEST, { timeoutMs });
  let last = readI32(await neighbour.call('count', NOTHING));
  const late = [];
  const gap = [];
  let kept = 0;
  let other = 0;
  return {
    label,
    backend,
    async round() {
      const sleeper = await backend.load(await sleeperSpec());
      const started = performance.now();
      const code = await sleeper.call('sleep', u32(60_000)).then(
        () => 'returned',
        (error) => error?.code,
      );
      const rejected = performance.now();
      const count = readI32(await neighbour.call('count', NOTHING));
      gap.push(performance.now() - rejected);
      if (code === 'FO_SANDBOX_TIMEOUT') late.push(rejected - started - timeoutMs);
      else other += 1;
      if (count === last + 1) kept += 1;
      last = count;
      await sleeper.unload?.().catch(() => undefined);
    },
    cases() {
      return [
        benchCase(`${label}pool: poll_oneoff sleep, after its deadline`, 'ms', late, { perCall: true, timeoutMs }),
        benchCase(`${label}pool: neighbour unavailable after the cancel`, 'ms', gap, { perCall: true }),
        { id: `${label}pool: neighbour kept its state`, unit: 'fraction', median: kept / rounds, min: kept / rounds, max: kept / rounds, n: rounds, otherOutcomes: other },
      ];
    },
  };
}

const builds = [await build('', here)];
if (compare !== undefined) {
  const dir = pathToFileURL(resolve(compare));
  builds.push(await build('old build: ', dir));
}
for (let i = 0; i < rounds; i += 1) for (const b of builds) await b.round();
const cases = builds.flatMap((b) => b.cases());
for (const b of builds) await b.backend.close();

if (json) console.log(JSON.stringify({ rounds, timeoutMs, cases }));
else {
  console.log(`cancel: ${rounds} sleepers per build, limit ${timeoutMs} ms, one pool worker shared with a counting neighbour`);
  for (const c of cases) {
    if (c.unit === 'fraction') console.log(`  ${c.id.padEnd(58)} ${(c.median * 100).toFixed(0)}% of rounds${c.otherOutcomes > 0 ? `, ${c.otherOutcomes} calls did not time out` : ''}`);
    else console.log(`  ${c.id.padEnd(58)} p50 ${c.median.toFixed(2)} ms  p99 ${c.p99.toFixed(2)} ms  (min ${c.min.toFixed(2)}, max ${c.max.toFixed(2)})`);
  }
}
