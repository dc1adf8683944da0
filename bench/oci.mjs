#!/usr/bin/env node
// Issue 14's figure: pull + verify + install of a 1 MiB plugin from a local registry
// (Debian's docker-registry, CNCF distribution 2.8, on 127.0.0.1), median over ROUNDS, next
// to `skopeo copy docker://... oci:DIR` of the same artifact (a copy only: skopeo neither
// verifies our signatures nor installs). Each round installs into a fresh store (made before
// the clock starts) with a fresh client (no cached token; connections are kept alive by
// Node's global fetch, as in a long-running daemon).
// Then the same work split into its phases, in rounds of their own interleaved with those:
// pull (pullPackage: manifest, layer and signature, the package put back together), verify
// (store.install up to its `verified` step: reading the package and checking its signature),
// install (the rest: lock, staging, flushes, the commit rename). And the flushes (fsync) one
// install makes, counted in one extra round, and the full garbage collections during the
// timed installs.
// Run: npm run build && node bench/oci.mjs [ROUNDS] [--quick] [--json]   (default 30; --quick 8)
import { spawnSync } from 'node:child_process';
import { benchCase, jsonOutput, show, withRatios } from './stats.mjs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { join } from 'node:path';
import { OciClient } from '../packages/plugin-manager/dist/registry/oci/client.js';
import { installFromRegistry } from '../packages/plugin-manager/dist/registry/oci/install.js';
import { pullPackage } from '../packages/plugin-manager/dist/registry/oci/pull.js';
import { pushPackage } from '../packages/plugin-manager/dist/registry/oci/push.js';
import { parseReference } from '../packages/plugin-manager/dist/registry/oci/reference.js';
import { startRegistry } from '../packages/plugin-manager/dist/registry/oci/test-support/registry.js';
import { makeSigned, openStore } from '../packages/plugin-manager/dist/registry/store/test-support/fixtures.js';

const emit = jsonOutput();
const rounds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? (process.argv.includes('--quick') ? 8 : 30));

console.log(`oci benchmark: ${rounds} rounds, node ${process.version}, ${readFileSync('/proc/loadavg', 'utf8').trim()} (load)`);
const registry = await startRegistry();
try {
  // Random bytes do not compress: the layer really is about 1 MiB.
  const bytes = await makeSigned({ name: 'bench', assets: { 'payload.bin': randomBytes(1024 * 1024) } });
  const text = `${registry.host}/forge/bench:1.0.0`;
  const pushed = await pushPackage(new OciClient({ registry: registry.host }), parseReference(text), bytes);
  console.log(`  package ${bytes.length} bytes, layer ${pushed.layer.size} bytes, ${pushed.signatures.length} signature referrer`);

  const forge = [];
  const phases = { pull: [], verify: [], install: [] };
  const gc = majorCollections();
  const timed = [];
  for (let i = 0; i < rounds + 3; i += 1) {
    const store = await openStore();
    const t = performance.now();
    await installFromRegistry(new OciClient({ registry: registry.host }), parseReference(text), store);
    const end = performance.now();
    if (i >= 3) forge.push(end - t); // three warm-up rounds (JIT, page cache)
    if (i >= 3) timed.push([t, end]);
    await rm(store.directory, { recursive: true, force: true });
    const split = await phased(text);
    if (i >= 3) for (const [phase, ms] of Object.entries(split)) phases[phase].push(ms);
  }
  const flushes = await countFlushes(text);
  const skopeo = [];
  const probe = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) {
    for (let i = 0; i < rounds + 3; i += 1) {
      const dir = await mkdtemp(join(tmpdir(), 'forge-bench-skopeo-'));
      const t = performance.now();
      const run = spawnSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${text}`, `oci:${dir}:bench`], { encoding: 'utf8' });
      const elapsed = performance.now() - t;
      if (run.status !== 0) throw new Error(`skopeo copy failed: ${run.stderr}`);
      if (i >= 3) skopeo.push(elapsed);
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log('pull + verify + install of a 1 MiB plugin from docker-registry on 127.0.0.1:');
  const ours = show('forge (installFromRegistry, fresh store)', forge, 'ms', 44);
  if (skopeo.length > 0) {
    const theirs = show(`skopeo copy docker:// -> oci: (${probe.stdout.trim()})`, skopeo, 'ms', 44);
    console.log(`  ratio forge / skopeo: ${(ours / theirs).toFixed(2)} (target: forge <= 50 ms median)`);
  } else {
    console.log('  skopeo not installed: no anchor');
  }
  console.log('the same, phase by phase (rounds of their own):');
  for (const [phase, values] of Object.entries(phases)) show(`  ${phase}`, values, 'ms', 42);
  // Each phase has a long tail, so the median of the totals is more than the sum of the phases' medians.
  show('  all three (per round)', phases.pull.map((pull, i) => pull + phases.verify[i] + phases.install[i]), 'ms', 42);
  console.log(`  flushes (fsync) per install: ${flushes}`);
  const collections = await gc.within(timed);
  console.log(`  full garbage collections during the timed installs: ${collections.count} in ${rounds} installs (${collections.ms.toFixed(1)} ms in all)`);
  const cases = [benchCase('forge: installFromRegistry, fresh store', 'ms', forge, { perCall: true })];
  if (skopeo.length > 0) cases.push(benchCase(`skopeo copy docker:// -> oci: (${probe.stdout.trim()})`, 'ms', skopeo, { perCall: true }));
  const phaseCases = Object.entries(phases).map(([phase, values]) => benchCase(`forge phase: ${phase}`, 'ms', values, { perCall: true, group: 'phases' }));
  emit?.({
    rounds,
    packageBytes: bytes.length,
    flushesPerInstall: flushes,
    fullCollections: collections.count,
    anchor: skopeo.length > 0 ? probe.stdout.trim() : 'skopeo not installed',
    cases: [...(skopeo.length > 0 ? withRatios(cases, cases[1].id) : cases), ...phaseCases],
  });
} finally {
  await registry.stop();
}

/** One pull + verify + install into a fresh store, timed phase by phase (ms). */
async function phased(text) {
  let verified = 0;
  const store = await openStore({ onStep: (operation, step) => void (step === 'verified' && (verified = performance.now())) });
  const start = performance.now();
  const pulled = await pullPackage(new OciClient({ registry: registry.host }), parseReference(text), { repack: 'fast' });
  const pulledAt = performance.now();
  await store.install(pulled.bytes);
  const end = performance.now();
  await rm(store.directory, { recursive: true, force: true });
  return { pull: pulledAt - start, verify: verified - pulledAt, install: end - verified };
}

/**
 * Full (mark-compact) garbage collections, counted afterwards in the windows given:
 * the timed installs themselves, not the phase rounds run between them.
 */
function majorCollections() {
  const major = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) major.push(entry);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    within: async (windows) => {
      // GC entries are delivered asynchronously: give the last ones a turn first.
      await new Promise((resolve) => setTimeout(resolve, 10));
      observer.disconnect();
      const inside = major.filter((entry) => windows.some(([from, to]) => entry.startTime >= from && entry.startTime <= to));
      return { count: inside.length, ms: inside.reduce((sum, entry) => sum + entry.duration, 0) };
    },
  };
}

/** The FileHandle.sync calls (fsync) of one installFromRegistry into a fresh store. */
async function countFlushes(text) {
  const store = await openStore();
  const probe = await open(store.directory, 'r');
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
  const sync = proto.sync;
  let count = 0;
  proto.sync = function (...args) {
    count += 1;
    return sync.apply(this, args);
  };
  try {
    await installFromRegistry(new OciClient({ registry: registry.host }), parseReference(text), store);
  } finally {
    proto.sync = sync;
  }
  await rm(store.directory, { recursive: true, force: true });
  return count;
}
