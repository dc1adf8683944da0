#!/usr/bin/env node
// Runs every test on the built output with node:test: packages/*/dist/**/*.test.js and
// scripts/*.test.mjs. Usage: node scripts/run-tests.mjs [FILTER...]; a filter keeps the
// test files whose path contains it. Node 20's --test takes no globs, hence this script.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtFiles, filesUnder } from './test-files.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

// The sandbox bundle follows the code it bundles (a `tsc -b` alone leaves it stale; it rebuilds in ~0.5 s, or not at all when fresh).
if (existsSync(join(root, 'packages/plugin-manager/dist/sandbox/process/child-main.js'))) {
  const bundled = spawnSync(process.execPath, [join(root, 'scripts/bundle-sandbox.mjs')], { stdio: 'inherit' });
  if (bundled.status !== 0) process.exit(bundled.status ?? 1);
}

const files = [...builtFiles(root, '.test.js'), ...[...filesUnder(join(root, 'scripts'), '.test.mjs')].map((file) => relative(root, file))];

const filters = process.argv.slice(2);
const selected = files
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (selected.length === 0) {
  console.error(`run-tests: no test files match ${filters.join(' ') || '(all)'}; did the build run?`);
  process.exit(1);
}
// Two phases. The packages' test files run FORGE_TEST_CONCURRENCY at a time (default 2:
// most of them wait on child processes, sandboxes and sockets, so two keep two cores busy);
// scripts/*.test.mjs then run one at a time: they rebuild (npm start), run the benchmarks'
// quick mode or clone the repository, and must not rewrite dist/ under a running test.
const concurrency = Number(process.env.FORGE_TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`run-tests: FORGE_TEST_CONCURRENCY must be a whole number >= 1, not ${JSON.stringify(process.env.FORGE_TEST_CONCURRENCY)}`);
  process.exit(2);
}
const phases = [
  { files: selected.filter((file) => !file.startsWith('scripts/')), concurrency },
  { files: selected.filter((file) => file.startsWith('scripts/')), concurrency: 1 },
].filter((phase) => phase.files.length > 0);
// The tests' temporary workspaces go under one directory of this run, removed at the end
// (FORGE_KEEP_TEST_TMP=1 keeps it to look at). Sticky and open to all like /tmp: some tests
// run forge as another user.
const scratch = mkdtempSync(join(tmpdir(), 'forge-tests-'));
chmodSync(scratch, 0o1777);
let status = 0;
for (const phase of phases) {
  // A test that hangs fails after five minutes instead of holding the whole run (CI's hard limit is 90).
  // A full crash run (FORGE_CRASH_ITERATIONS=100, docs/security.md) takes longer by design;
  // its tests set their own limits from the iteration count.
  const limit = process.env.FORGE_CRASH_ITERATIONS ? [] : ['--test-timeout=300000'];
  const args = ['--test', '--test-reporter=spec', ...limit, `--test-concurrency=${phase.concurrency}`, ...phase.files];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, TMPDIR: scratch } });
  if (result.status !== 0) status = result.status ?? 1;
}
if (process.env.FORGE_KEEP_TEST_TMP) console.error(`run-tests: kept the tests' temporary files in ${scratch}`);
else rmSync(scratch, { recursive: true, force: true });
process.exit(status);
