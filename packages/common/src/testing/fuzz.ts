/**
 * Settings and failure reports for ForgeOne's fuzz tests (`*.fuzz.test.ts`, fast-check
 * properties run by node:test). Every run is reproducible: the seed is fixed unless
 * FORGE_FUZZ_SEED says otherwise, and a failure names the env vars that replay it.
 * The helper takes fast-check's run details structurally, so this module (shipped with
 * `@forgeone/common/testing`) does not depend on fast-check itself.
 */

/** The seed every fuzz test uses unless FORGE_FUZZ_SEED is set: CI runs are identical from run to run. */
export const DEFAULT_FUZZ_SEED = 0x17f022;

/** What a fast-check run is given (the subset of its `Parameters` ForgeOne sets). */
export interface FuzzSettings {
  /** The seed (FORGE_FUZZ_SEED, default {@link DEFAULT_FUZZ_SEED}). */
  readonly seed: number;
  /** How many generated cases (FORGE_FUZZ_RUNS, default the test's own CI budget). */
  readonly numRuns: number;
  /** A counterexample path to replay only that case (FORGE_FUZZ_PATH), from a failure report. */
  readonly path?: string;
}

/** The fields of fast-check's `RunDetails` this helper reads. */
export interface FuzzRunDetails {
  readonly failed: boolean;
  readonly seed: number;
  readonly counterexamplePath: string | null;
  readonly numRuns: number;
  /** What the property threw on the (shrunk) counterexample. */
  readonly errorInstance?: unknown;
}

function integerFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}, found ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The settings of one fuzz property.
 * @param defaultRuns the cases CI runs (kept small: every fuzz test together stays under ~40 s on 2 cores)
 */
export function fuzzSettings(defaultRuns: number): FuzzSettings {
  const path = process.env['FORGE_FUZZ_PATH'];
  return {
    seed: integerFromEnv('FORGE_FUZZ_SEED', DEFAULT_FUZZ_SEED, -(2 ** 31)),
    numRuns: integerFromEnv('FORGE_FUZZ_RUNS', defaultRuns, 1),
    ...(path === undefined || path === '' ? {} : { path }),
  };
}

/** The shell line that replays one failure of the fuzz test file `file` (e.g. `tar.fuzz`). */
export function replayCommand(file: string, details: FuzzRunDetails): string {
  const path = details.counterexamplePath === null ? '' : ` FORGE_FUZZ_PATH='${details.counterexamplePath}'`;
  return `FORGE_FUZZ_SEED=${details.seed}${path} node scripts/run-tests.mjs ${file}`;
}

/**
 * Runs one property check and fails with fast-check's report (seed, path, counterexample,
 * the error it threw) followed by the command that replays it.
 *
 * @param file the fuzz test's file name without extension, used as the run-tests filter
 * @param defaultRuns the cases CI runs (see {@link fuzzSettings})
 * @param check runs the property with the given settings (`(s) => fc.check(property, s)`)
 * @param report formats a failure (`fc.defaultReportMessage` or `fc.asyncDefaultReportMessage`)
 * @throws Error with the report when the property fails
 */
export async function runFuzz<D extends FuzzRunDetails>(
  file: string,
  defaultRuns: number,
  check: (settings: FuzzSettings) => D | Promise<D>,
  report: (details: NoInfer<D>) => string | undefined | Promise<string | undefined>,
): Promise<void> {
  const details = await check(fuzzSettings(defaultRuns));
  if (!details.failed) return;
  const text = (await report(details)) ?? 'property failed';
  const cause = details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance);
  throw new Error(`${text}\n\nThe property threw: ${cause}\n\nReplay this failure with:\n  ${replayCommand(file, details)}`, { cause: details.errorInstance });
}
