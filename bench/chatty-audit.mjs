#!/usr/bin/env node
// The cost of keeping a killed call's audit (security.md §40) on the hot path of a chatty
// call: one pool call making 5,000 allowed forge.time_now host calls at audit level all,
// (a) every record written one by one (each is mirrored in the worker's shared ledger until
// its batch is posted: pool-audit-mirror.ts), and (b) folded past the first 100
// (audit.max_call_records: each folded record is also counted in the ledger: fold-tally.ts).
// The host discards what it is given, so the worker's side and the batches' crossing are
// what is timed. With --base DIR (a copy of another build's packages/plugin-manager/dist
// placed inside this repository, e.g. node_modules/.base-dist, so that its imports resolve)
// the same calls run on that build too, rounds interleaved, and each case gets its ratio to
// the base (bench/README.md).
// Run: npm run build && node bench/chatty-audit.mjs [--quick] [--json] [--base DIR]
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchCase, jsonOutput, show } from './stats.mjs';

const emit = jsonOutput();
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const baseAt = args.indexOf('--base');
const builds = [{ name: 'this build', dist: new URL('../packages/plugin-manager/dist/', import.meta.url) }];
if (baseAt !== -1) builds.push({ name: 'base', dist: pathToFileURL(`${resolve(args[baseAt + 1])}/`) });

const CALLS = 5000;
const ROUNDS = quick ? 7 : 21;
const PER_ROUND = quick ? 10 : 20;
const host = { audit: () => undefined, log: () => undefined, event: () => undefined, anomaly: () => undefined, hostCall: () => new Uint8Array(0) };
const CASES = [
  ['every_record', 'every record one by one', {}],
  ['folded_past_100', 'folded past the first 100', { auditMaxCallRecords: 100 }],
];
const cases = [];
console.log(`chatty call: ${CALLS} allowed forge.time_now at audit level all, ${ROUNDS} rounds of ${PER_ROUND} calls per build, interleaved; loadavg ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
for (const [id, label, extra] of CASES) {
  const runs = [];
  for (const build of builds) {
    const { PoolBackend } = await import(new URL('sandbox/index.js', build.dist).href);
    const { FOLD_GUEST, u32 } = await import(new URL('sandbox/test-support/guests.js', build.dist).href);
    const { pluginSpec } = await import(new URL('sandbox/test-support/specs.js', build.dist).href);
    const pool = new PoolBackend(host, { size: 1 });
    const handle = await pool.load(await pluginSpec(FOLD_GUEST, { auditLevel: 'all', fuel: 10n ** 12n, ...extra }));
    const input = new Uint8Array([...u32(CALLS), ...u32(0)]);
    for (let i = 0; i < PER_ROUND; i += 1) await handle.call('mixed', input);
    runs.push({ build, pool, call: () => handle.call('mixed', input), samples: [] });
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const run of runs) {
      const start = performance.now();
      for (let i = 0; i < PER_ROUND; i += 1) await run.call();
      run.samples.push(((performance.now() - start) * 1000) / PER_ROUND);
    }
  }
  const anchor = benchCase(id, 'us', runs.at(-1).samples).median;
  for (const run of runs) {
    show(`${label} (${run.build.name})`, run.samples, 'us/call', 52);
    const one = benchCase(`${id}${run.build.name === 'base' ? '_base' : ''}`, 'us', run.samples, { label: `${label} (${run.build.name})`, group: id });
    cases.push({ ...one, perRecordNs: (one.median * 1000) / CALLS, ...(runs.length > 1 ? { anchor: `${id}_base`, ratio: one.median / anchor } : {}) });
    await run.pool.close();
  }
  if (runs.length > 1) console.log(`    ratio to base: ${(benchCase(id, 'us', runs[0].samples).median / anchor).toFixed(3)}`);
}
emit?.({ bench: 'chatty-audit', loadavg: loadavg(), cases });
