#!/usr/bin/env node
// The long fuzz run: every *.fuzz.test.js (after a build) with many more cases than CI and a
// random seed, printed first so any failure can be replayed. Usage:
//   node scripts/fuzz.mjs [FILTER...]   (npm run fuzz -- FILTER)
// Env: FORGE_FUZZ_RUNS (default 20000 cases per property), FORGE_FUZZ_SEED (default random).
// Exits non-zero when a property fails; the failure prints the command that replays it.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { builtFiles } from './test-files.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const filters = process.argv.slice(2);
const files = builtFiles(root, '.fuzz.test.js');
const selected = files.filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter))).sort();
if (selected.length === 0) {
  console.error(`fuzz: no fuzz test files match ${filters.join(' ') || '(all)'}; did the build run (npm run build)?`);
  process.exit(1);
}
const seed = process.env.FORGE_FUZZ_SEED ?? String(randomInt(-(2 ** 31), 2 ** 31 - 1));
const runs = process.env.FORGE_FUZZ_RUNS ?? '20000';
console.log(`fuzz: FORGE_FUZZ_SEED=${seed} FORGE_FUZZ_RUNS=${runs} over ${selected.length} file(s):\n  ${selected.join('\n  ')}`);
// No test timeout of its own: 20000 cases of the wasm properties take minutes.
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=3600000', ...selected], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FORGE_FUZZ_SEED: seed, FORGE_FUZZ_RUNS: runs },
});
console.log(`fuzz: ${result.status === 0 ? 'passed' : 'FAILED'} with FORGE_FUZZ_SEED=${seed} FORGE_FUZZ_RUNS=${runs}`);
process.exit(result.status ?? 1);
