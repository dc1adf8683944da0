/**
 * Helpers for ForgeOne's own tests (`@forgeone/common/testing`). Not part of the
 * stable API.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export {
  codeOf,
  codeOfSync,
  forgeErrorOf,
  forgeErrorOfSync,
  hasCode,
  rejectsWithCode,
  throwsCode,
  type Attempt,
} from './error-codes.js';
export { CrashChild, crashPlan, measureCrashWindow, type CrashEnd, type CrashPlan } from './crash.js';
export { mountTmpfs, type Tmpfs } from './tmpfs.js';
export { seededRandom } from './random.js';

/** True when running under CI (`CI=true`), where every probe must succeed. */
export function inCi(): boolean {
  return process.env['CI'] === 'true';
}

/**
 * Probes for an external tool before a test that needs it. When the tool is missing
 * the test is skipped with the reason, except under CI, where it fails: CI installs
 * every tool the tests use, so a missing one is a broken CI, not a reason to skip.
 *
 * @param check returns a reason the tool is unsuitable (e.g. not GNU tar), or undefined
 * @returns true when the test can go on
 */
export function requireTool(
  t: TestContext,
  command: string,
  args: readonly string[] = ['--version'],
  check: (output: string) => string | undefined = () => undefined,
): boolean {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  const reason =
    probe.error !== undefined || probe.status !== 0 ? `${command} is not available (${probe.error?.message ?? `exit ${probe.status}`})` : check(`${probe.stdout}${probe.stderr}`);
  if (reason === undefined) return true;
  if (inCi()) throw new Error(`${reason}; CI must install it (.ci/run)`);
  t.skip(reason);
  return false;
}

export { DEFAULT_FUZZ_SEED, fuzzSettings, replayCommand, runFuzz, type FuzzRunDetails, type FuzzSettings } from './fuzz.js';
