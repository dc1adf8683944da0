// The benchmark suite's quick mode (issue 16): it completes, its latest.json has the
// expected shape, RESULTS.md has its sections, and every SVG is well-formed XML. Never a
// timing: speed is judged in the report, not here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A strict enough XML check for what bench/plot.mjs writes: one root, every tag closed in order, entities escaped. */
function assertWellFormedXml(text, name) {
  assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /, `${name}: XML declaration and svg root`);
  const body = text.replace(/^<\?xml[^>]*\?>/, '');
  const stack = [];
  let roots = 0;
  for (const match of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g)) {
    if (match[0] === '<') assert.fail(`${name}: a stray < at ${match.index}`);
    if (match[0] === '&') assert.fail(`${name}: an unescaped & at ${match.index}`);
    const [, closing, tag, , selfClosing] = match;
    if (closing) assert.equal(stack.pop(), tag, `${name}: </${tag}> closes the open element`);
    else if (!selfClosing) {
      if (stack.length === 0) roots += 1;
      stack.push(tag);
    } else if (stack.length === 0) roots += 1;
  }
  assert.deepEqual(stack, [], `${name}: every element is closed`);
  assert.equal(roots, 1, `${name}: one root element`);
}

test('npm run bench -- --quick completes and writes a well-formed latest.json, RESULTS.md and SVGs', { timeout: 600_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'forge-bench-quick-'));
  try {
    const run = spawnSync(process.execPath, [join(root, 'bench/run.mjs'), '--quick', '--out', out], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, `bench/run.mjs --quick exited ${run.status}:\n${run.stderr.slice(-4000)}`);

    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    assert.equal(results.version, 1);
    assert.equal(results.mode, 'quick');
    assert.ok(!Number.isNaN(Date.parse(results.date)), 'date is an ISO date');
    for (const key of ['cpus', 'memoryBytes', 'node', 'kernel', 'loadBefore', 'loadAfter']) assert.ok(key in results.machine, `machine.${key}`);
    assert.equal(results.machine.loadBefore.length, 3);
    const names = results.benches.map((b) => b.name);
    for (const name of ['abi-call', 'pool', 'start', 'pdk', 'dashboard']) assert.ok(names.includes(name), `${name} is in the run`);
    for (const bench of results.benches) {
      assert.ok(['ok', 'skipped', 'failed'].includes(bench.status), `${bench.name}: status ${bench.status}`);
      assert.notEqual(bench.status, 'failed', `${bench.name} failed: ${bench.reason}\n${bench.stderrTail ?? ''}`);
      if (bench.status === 'skipped') assert.ok(bench.reason.length > 0, `${bench.name} is skipped with a reason`);
      if (bench.status !== 'ok') continue;
      const cases = bench.name === 'pdk' ? Object.values(bench.result.microsecondsPerCall) : bench.result.cases;
      assert.ok(Array.isArray(cases) && cases.length > 0, `${bench.name} has cases`);
      for (const c of cases) assert.equal(typeof c.median, 'number', `${bench.name}: every case has a median`);
    }
    assert.equal(results.benches.find((b) => b.name === 'dashboard').status, 'skipped', 'the dashboard is left out of quick mode');

    const report = readFileSync(join(out, 'RESULTS.md'), 'utf8');
    for (const heading of ['# Benchmark results', '## Machine', '## Benchmarks run', '## Targets', '## Plots']) assert.ok(report.includes(`\n${heading}\n`) || report.startsWith(`${heading}\n`), `RESULTS.md has ${heading}`);
    for (const bench of results.benches) assert.ok(report.includes(`\n## ${bench.name}\n`), `RESULTS.md has a section for ${bench.name}`);
    const svgs = readdirSync(out).filter((file) => file.endsWith('.svg'));
    assert.deepEqual(svgs.sort(), ['calls.svg', 'neighbours.svg', 'start.svg'].filter((file) => report.includes(`](${file})`)).sort(), 'every SVG written is embedded, and every embedded one exists');
    assert.ok(svgs.length > 0, 'at least one plot is drawn');
    for (const file of svgs) assertWellFormedXml(readFileSync(join(out, file), 'utf8'), file);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
