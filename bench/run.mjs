#!/usr/bin/env node
// The benchmark suite: runs every benchmark in bench/ one after another, each as its own
// child process with --json (and --quick in quick mode), and writes what they measured,
// with the machine they ran on, to DIR/latest.json; then the Markdown report and the SVG
// plots (bench/report.mjs, bench/plot.mjs).
//
// Usage: npm run bench [-- --quick] [-- --only NAME,NAME] [-- --out DIR]
//   (npm run bench builds first; `node bench/run.mjs` runs on the current build.)
//   DIR defaults to bench/results, and the report then goes to bench/RESULTS.md; with
//   --out the report is DIR/RESULTS.md.
//
// A benchmark that cannot run on this host (a missing tool, exit code 3, or a `needs`
// command that is not installed) is recorded as skipped with its reason; one that crashes,
// times out or prints no JSON is recorded as failed with the tail of its stderr, the suite
// goes on, and the runner exits 1 at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The benchmarks, in the order they run. quick: false leaves one out of quick mode (said
 * in the report); quickArgs are added in quick mode; needs: commands that must exist.
 */
const BENCHES = [
  { name: 'abi-call', title: 'forge/1 calls against the raw floor and Extism, 16 B to 1 MiB', nodeArgs: ['--expose-gc'] },
  { name: 'pool', title: 'Pool calls, idle plugins and neighbours, against inline and Extism workers', quickArgs: ['--plugins', '500'] },
  { name: 'cancel', title: 'Cancelling a pool call that sleeps past its limit, and its neighbours' },
  { name: 'fuel', title: 'Fuel metering overhead' },
  { name: 'fuel-calibrate', title: 'Bulk-operation fuel calibration (no anchor)' },
  { name: 'wasi-read', title: 'WASI file reads against node:wasi' },
  { name: 'verify', title: 'Signature verification of a 1 MiB package' },
  { name: 'bridge', title: 'Syscall bridge per allowed host call' },
  { name: 'audit', title: 'Audit log append and verification against a naive chain' },
  { name: 'start', title: 'An installed plugin from stopped to Running' },
  { name: 'confine', title: 'Starting a confined sandbox against node and bwrap', needs: ['bwrap'] },
  { name: 'process', title: 'The process backend against bwrap and the pool', needs: ['bwrap'] },
  { name: 'freeze', title: 'Freezer pause and idle memory of a confined process', needs: ['bwrap'] },
  { name: 'containers', title: "Podman (runc) and crun against ForgeOne's launcher and freezer: start, pause, memory", needs: ['bwrap', 'podman', 'runc'] },
  { name: 'load', title: 'Well-behaved plugins under load beside hostile neighbours, on every backend', quickArgs: ['--backends', 'inline,pool'] },
  { name: 'daemon-call', title: "Calls through the daemon's API against in-process calls" },
  { name: 'metrics', title: 'A metrics scrape against prom-client alone' },
  { name: 'oci', title: 'Pull + verify + install from a local OCI registry against skopeo', needs: ['docker-registry'] },
  { name: 'c-plugin', title: 'The C example plugin' },
  { name: 'pdk', title: 'The same transform in each PDK against Extism' },
  { name: 'dashboard', title: 'The web dashboard with 1,000 plugins in headless Chromium', needs: ['chromium'], quick: false },
];

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes('--quick');
const only = option('--only')?.split(',');
const out = resolve(option('--out') ?? join(here, 'results'));
const reportPath = option('--out') === undefined ? join(here, 'RESULTS.md') : join(out, 'RESULTS.md');
const TIMEOUT_MS = (quick ? 90 : 1200) * 1000;

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const load = () => loadavg().map((value) => Number(value.toFixed(2)));
const tail = (text, lines = 15) => text.trimEnd().split('\n').slice(-lines).join('\n');

/** Runs one benchmark; resolves to its record (never rejects). */
function runOne(bench) {
  const record = { name: bench.name, title: bench.title, args: [...(bench.nodeArgs ?? []), `bench/${bench.name}.mjs`, '--json', ...(quick ? ['--quick', ...(bench.quickArgs ?? [])] : [])] };
  if (quick && bench.quick === false) return { ...record, status: 'skipped', reason: 'left out of quick mode (it takes longer than the quick budget allows)' };
  const missing = (bench.needs ?? []).filter((command) => !has(command));
  if (missing.length > 0) return { ...record, status: 'skipped', reason: `not installed on this host: ${missing.join(', ')}` };
  return new Promise((done) => {
    const started = performance.now();
    const loadBefore = load();
    const child = spawn(process.execPath, record.args, { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const timing = { seconds: Number(((performance.now() - started) / 1000).toFixed(1)), loadBefore, loadAfter: load() };
      if (code === 3) return done({ ...record, ...timing, status: 'skipped', reason: tail(stderr, 3) });
      if (code !== 0) return done({ ...record, ...timing, status: 'failed', reason: signal === 'SIGKILL' ? `timed out after ${TIMEOUT_MS / 1000} s` : `exit code ${code}${signal ? `, signal ${signal}` : ''}`, stderrTail: tail(stderr) });
      try {
        return done({ ...record, ...timing, status: 'ok', result: JSON.parse(stdout) });
      } catch (error) {
        return done({ ...record, ...timing, status: 'failed', reason: `its --json output does not parse: ${error.message}`, stderrTail: tail(`${stderr}\n${stdout}`) });
      }
    });
  });
}

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryBytes: totalmem(),
  node: process.version,
  kernel: release(),
  platform: process.platform,
  loadBefore: load(),
};
const started = performance.now();
const benches = [];
for (const bench of BENCHES.filter((b) => only === undefined || only.includes(b.name))) {
  process.stderr.write(`bench: ${bench.name}... `);
  const record = await runOne(bench);
  process.stderr.write(`${record.status}${record.seconds === undefined ? '' : ` (${record.seconds} s)`}${record.reason ? `: ${record.reason.split('\n')[0]}` : ''}\n`);
  benches.push(record);
}
machine.loadAfter = load();
const results = { version: 1, date: new Date().toISOString(), mode: quick ? 'quick' : 'full', seconds: Number(((performance.now() - started) / 1000).toFixed(1)), machine, benches };
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json'), `${JSON.stringify(results, null, 1)}\n`);
writeReport(results, { reportPath, svgDir: out });
process.stderr.write(`bench: ${benches.length} benchmarks in ${results.seconds} s; wrote ${join(out, 'latest.json')} and ${reportPath}\n`);
const failed = benches.filter((b) => b.status === 'failed');
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.map((b) => `${b.name} (${b.reason})`).join(', ')}\n`);
  process.exitCode = 1;
}
