// Every performance target named in the issues (and bench/README.md's "Target:" lines), each
// with the JSON path in bench/results/latest.json it is read from. bench/report.mjs lists
// them all in RESULTS.md's "Targets" table: measured, met or missed, and the gap.
//
// A path starts with a benchmark's name; then dot-separated keys, where `key[field=value]`
// picks the element of an array whose `field` is `value` (`a=1&b=2`: both; values may hold
// spaces and commas, not brackets or &). `per` divides the value at `path` by the one at `per` (a ratio of
// two figures of the same run); `scale` multiplies it. A target with no path is not
// measured by any benchmark yet: the report says so, with `why`.

/** @type {{ id: string, issue: number, text: string, op: '<=' | '>=', value: number, unit: string, path?: string, per?: string, scale?: number, why?: string }[]} */
export const TARGETS = [
  { id: 'abi-16', issue: 3, text: 'forge/1 call, 16 B in and out', op: '<=', value: 0.5, unit: 'us', path: 'abi-call.cases[id=ours&group=16].median' },
  { id: 'abi-64k', issue: 3, text: 'forge/1 call, 64 KiB in and out, fresh output array', op: '<=', value: 20, unit: 'us', path: 'abi-call.cases[id=ours&group=65536].median' },
  { id: 'abi-64k-slot', issue: 3, text: "forge/1 call, 64 KiB in and out, into the caller's buffer", op: '<=', value: 20, unit: 'us', path: 'abi-call.cases[id=ours_slot&group=65536].median' },
  { id: 'fuel', issue: 2, text: 'fuel metering on compute loops, instrumented / original (geometric mean)', op: '<=', value: 1.15, unit: 'x', path: 'fuel.loopGeomeanRatio' },
  { id: 'wasi-read', issue: 5, text: 'WASI 64 KiB reads with a policy gate, vs node:wasi', op: '>=', value: 0.8, unit: 'x', path: 'wasi-read.cases[id=forgeone (counting gate)].ratio' },
  { id: 'verify', issue: 4, text: 'verify a signed 1 MiB package end to end, median', op: '<=', value: 5, unit: 'ms', path: 'verify.cases[id=ed25519: end to end, warm trust store (openVerifiedPackage)].median' },
  { id: 'bridge', issue: 6, text: 'allowed host call through the bridge, warm cache, audit=decisions', op: '<=', value: 500, unit: 'ns', path: 'bridge.cases[id=gate.check, warm cache, audit=decisions].median' },
  { id: 'audit-append', issue: 7, text: 'audit log append, group commit', op: '>=', value: 300_000, unit: 'records/s', path: 'audit.cases[id=append: AuditLog group commit].median' },
  { id: 'audit-verify', issue: 7, text: 'audit chain verification', op: '>=', value: 1_000_000, unit: 'records/s', path: 'audit.cases[id=verify: verifyAuditLog (default threads)].median' },
  { id: 'pool-call', issue: 10, text: 'cross-thread pool call, 16 B, median', op: '<=', value: 15, unit: 'us', path: 'pool.cases[id=pool&group=16].median' },
  { id: 'pool-idle-1g', issue: 10, text: '10,000 idle plugins in the pool, process RSS (extrapolated from the run\'s per-plugin figure)', op: '<=', value: 1024, unit: 'MiB', path: 'pool.idle.per_plugin_kib', scale: 10_000 / 1024 },
  { id: 'pool-neighbour', issue: 10, text: "a spinning neighbour (pool defaults): well-behaved plugin's p99 vs alone", op: '<=', value: 2, unit: 'x', path: 'pool.neighbour.rows[name=spinner, pool defaults (isolated)].p99_vs_alone' },
  { id: 'start', issue: 9, text: 'installed signed plugin, load + start, median', op: '<=', value: 5, unit: 'ms', path: 'start.cases[id=load + start].median' },
  { id: 'process-warm', issue: 13, text: 'start of a plugin into a warm confined sandbox, median', op: '<=', value: 15, unit: 'ms', path: 'process.cases[id=start: into a warm sandbox].median' },
  { id: 'process-call', issue: 13, text: 'call into a confined plugin vs the pool (async)', op: '<=', value: 2, unit: 'x', path: 'process.cases[id=process: call (async)].ratio' },
  { id: 'process-pause', issue: 13, text: 'pause + resume of a confined plugin, median', op: '<=', value: 1, unit: 'ms', path: 'process.cases[id=pause + resume].median' },
  { id: 'process-memory', issue: 13, text: 'PSS per idle confined plugin, group_by plugin', op: '<=', value: 10, unit: 'MiB', path: 'process.cases[id=memory: group_by plugin].median' },
  { id: 'freeze', issue: 13, text: 'Cgroup.freeze() + thaw() of a busy confined process, median', op: '<=', value: 1, unit: 'ms', path: 'freeze.cases[id=Cgroup.freeze() + thaw()].median' },
  { id: 'oci', issue: 14, text: 'pull + verify + install of a 1 MiB plugin from a local registry, median', op: '<=', value: 50, unit: 'ms', path: 'oci.cases[id=forge: installFromRegistry, fresh store].median' },
  { id: 'load-inline', issue: 17, text: "well-behaved plugins' p99 under load beside hostile neighbours / solo p99, inline", op: '<=', value: 2, unit: 'x', path: 'load.backends[backend=inline].p99_ratio' },
  { id: 'load-pool', issue: 17, text: "well-behaved plugins' p99 under load beside hostile neighbours / solo p99, pool", op: '<=', value: 2, unit: 'x', path: 'load.backends[backend=pool].p99_ratio' },
  { id: 'load-process', issue: 17, text: "well-behaved plugins' p99 under load beside hostile neighbours / solo p99, process", op: '<=', value: 2, unit: 'x', path: 'load.backends[backend=process].p99_ratio' },
  { id: 'gap-audited-call', issue: 16, text: 'bridge call with a real AuditLog at level all', op: '<=', value: 500, unit: 'ns', path: 'bridge.cases[id=gate.check, real AuditLog on disk, audit=all].median' },
  { id: 'gap-wasi-4k-audited', issue: 16, text: 'WASI 4 KiB reads with every call audited, vs node:wasi', op: '>=', value: 0.8, unit: 'x', path: 'wasi-read.cases[id=forgeone (real AuditLog, level all), 4 KiB].ratio' },
  { id: 'gap-pool-busy-median', issue: 16, text: 'pool call, 16 B, median with both cores busy', op: '<=', value: 15, unit: 'us', path: 'pool.neighbour.rows[name=both cores busy (a CPU-bound process per core)].p50_us' },
  { id: 'gap-pool-busy-p99', issue: 16, text: 'pool call, 16 B, p99 with both cores busy', op: '<=', value: 100, unit: 'us', path: 'pool.neighbour.rows[name=both cores busy (a CPU-bound process per core)].p99_us' },
  { id: 'gap-pool-hog-p99', issue: 16, text: 'pool call, 16 B, p99 beside one CPU-bound thread (one core busy: the nearest case measured)', op: '<=', value: 100, unit: 'us', path: 'pool.neighbour.rows[name=a CPU-bound thread outside the pool].p99_us' },
  { id: 'gap-cancel', issue: 16, text: 'cancelling a call that sleeps or waits, p99 after its deadline', op: '<=', value: 10, unit: 'ms', path: 'cancel.cases[id=pool: poll_oneoff sleep, after its deadline].p99' },
  { id: 'gap-pool-1mib', issue: 16, text: 'pool call with 1 MiB in and out, vs inline', op: '<=', value: 2, unit: 'x', path: 'pool.cases[id=pool&group=1048576].ratio' },
  { id: 'gap-start-tail', issue: 16, text: 'pool start tail: load + start p90 / median', op: '<=', value: 2, unit: 'x', path: 'start.cases[id=load + start].p90', per: 'start.cases[id=load + start].median' },
  { id: 'gap-idle-256', issue: 16, text: '10,000 idle plugins (extrapolated from the run\'s per-plugin RSS)', op: '<=', value: 256, unit: 'MiB', path: 'pool.idle.per_plugin_kib', scale: 10_000 / 1024 },
];

/** The value at `path` in `results` (latest.json), or undefined when any step is missing. */
export function readPath(results, path) {
  const [bench, ...rest] = path.split('.');
  let value = results.benches.find((b) => b.name === bench && b.status === 'ok')?.result;
  // Keys split on dots outside brackets.
  const keys = rest.join('.').match(/[^.[\]]+(\[[^\]]*\])?/g) ?? [];
  for (const key of keys) {
    if (value === undefined || value === null) return undefined;
    const match = /^([^[]+)(?:\[([^\]]*)\])?$/.exec(key);
    value = value[match[1]];
    if (match[2] !== undefined && Array.isArray(value)) {
      const wanted = match[2].split('&').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]);
      value = value.find((item) => wanted.every(([field, expected]) => String(item[field]) === expected));
    }
  }
  return typeof value === 'number' ? value : undefined;
}

/** Each target with `measured` (or undefined), `status` (met, missed, not measured) and `gap`. */
export function evaluateTargets(results) {
  return TARGETS.map((target) => {
    let measured = target.path === undefined ? undefined : readPath(results, target.path);
    if (measured !== undefined && target.per !== undefined) {
      const divisor = readPath(results, target.per);
      measured = divisor === undefined ? undefined : measured / divisor;
    }
    if (measured !== undefined && target.scale !== undefined) measured *= target.scale;
    if (measured === undefined) return { ...target, status: 'not measured', why: target.why ?? `no value at ${target.path} (did its benchmark run?)` };
    const met = target.op === '<=' ? measured <= target.value : measured >= target.value;
    return { ...target, measured, status: met ? 'met' : 'missed', gap: met ? undefined : measured / target.value };
  });
}
