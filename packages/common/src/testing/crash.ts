/**
 * The crash harness: a child process performs an operation, printing `ready` once it is
 * set up and an `ack ...` line each time a step has returned with its durability
 * promise kept; the parent kills it with SIGKILL after a delay drawn from a seeded PRNG
 * and then checks that everything acknowledged survived and everything on disk is
 * consistent (docs/security.md, "Crash consistency").
 *
 * Replaying: every loop prints its seed in a test diagnostic; `FORGE_CRASH_SEED=<seed>`
 * draws the same delays again (the kill lands at the same moment up to scheduling noise).
 * `FORGE_CRASH_ITERATIONS=<n>` overrides the number of iterations of every loop (CI runs
 * a smaller seeded subset so that the suite stays in its time budget; 100 is the full run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { seededRandom } from './random.js';

/** One crash loop's settings: the seed its delays come from and how many iterations it runs. */
export interface CrashPlan {
  readonly seed: number;
  readonly iterations: number;
  /** The next number in [0, 1) from the seeded PRNG. */
  readonly random: () => number;
  /** A delay in [0, `windowMs` * 1.1] ms: inside the operation, with a tail past its end. */
  readonly delay: (windowMs: number) => number;
  /** `seed=<seed> iterations=<n>`, for the test diagnostic. */
  readonly label: string;
}

function positiveInteger(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, found ${JSON.stringify(text)}`);
  return value;
}

/**
 * The plan of one crash loop: the seed from `FORGE_CRASH_SEED` or a fresh one, the
 * iterations from `FORGE_CRASH_ITERATIONS` or `defaultIterations`.
 */
export function crashPlan(defaultIterations: number): CrashPlan {
  const seed = positiveInteger(process.env['FORGE_CRASH_SEED'], 'FORGE_CRASH_SEED') ?? Math.floor(Math.random() * 2 ** 32);
  const iterations = positiveInteger(process.env['FORGE_CRASH_ITERATIONS'], 'FORGE_CRASH_ITERATIONS') ?? defaultIterations;
  const random = seededRandom(seed);
  return {
    seed,
    iterations,
    random,
    delay: (windowMs) => random() * windowMs * 1.1,
    label: `seed=${seed} iterations=${iterations} (replay: FORGE_CRASH_SEED=${seed} FORGE_CRASH_ITERATIONS=${iterations})`,
  };
}

/** How a crash child ended. */
export interface CrashEnd {
  /** SIGKILL when the parent's kill landed; null when the child finished first. */
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  /** Every line the child printed. */
  readonly lines: readonly string[];
  /** The text after `ack ` of every acknowledgement line, in order. */
  readonly acks: readonly string[];
  readonly stderr: string;
}

/** A child process whose lines can be awaited and which can be killed at a chosen moment. */
export class CrashChild {
  readonly process: ChildProcess;
  readonly ended: Promise<CrashEnd>;
  readonly #lines: string[] = [];
  #waiters: { readonly prefix: string; readonly resolve: (line: string) => void }[] = [];

  /** Starts `node script ...args`. */
  constructor(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.process = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    this.process.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const lines = createInterface({ input: this.process.stdout! });
    lines.on('line', (line) => {
      this.#lines.push(line);
      const ready = this.#waiters.filter((w) => line.startsWith(w.prefix));
      this.#waiters = this.#waiters.filter((w) => !line.startsWith(w.prefix));
      for (const waiter of ready) waiter.resolve(line);
    });
    const closed = new Promise<void>((resolve) => lines.once('close', resolve));
    this.ended = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        // Lines already in the pipe are still read after the exit.
        void closed.then(() => resolve({ signal, code, lines: [...this.#lines], acks: acksOf(this.#lines), stderr }));
      });
    });
  }

  /** Resolves with the first line starting with `prefix`; rejects if the child ends first. */
  line(prefix: string): Promise<string> {
    const seen = this.#lines.find((line) => line.startsWith(prefix));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ prefix, resolve });
      void this.ended.then((end) => reject(new Error(`child ended (${end.signal ?? `exit ${end.code}`}) before printing "${prefix}": ${end.stderr}`)));
    });
  }

  /**
   * Waits for the child's `ready` line (its setup is not what is tested), then kills it
   * with SIGKILL after `delayMs` (or at once) and resolves once it is gone.
   */
  async killAfter(delayMs: number): Promise<CrashEnd> {
    await this.line('ready');
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.process.kill('SIGKILL');
    return this.ended;
  }
}

function acksOf(lines: readonly string[]): string[] {
  return lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
}

/**
 * Measures how long the operation takes in children that are not killed: from the
 * `ready` line to the exit, in ms (at least 5), the median of `samples` runs (on a loaded
 * machine one run can take several times another). The kills of a loop are spread over it.
 * @returns the window and the last run's end
 * @throws Error when a run does not finish cleanly
 */
export async function measureCrashWindow(start: () => CrashChild | Promise<CrashChild>, samples = 3): Promise<{ readonly windowMs: number; readonly end: CrashEnd }> {
  const times: number[] = [];
  let last: CrashEnd | undefined;
  for (let sample = 0; sample < samples; sample += 1) {
    const child = await start();
    await child.line('ready');
    const started = performance.now();
    const end = await child.ended;
    times.push(performance.now() - started);
    if (end.code !== 0) throw new Error(`the calibration run failed (exit ${end.code ?? end.signal}): ${end.stderr}`);
    last = end;
  }
  times.sort((a, b) => a - b);
  return { windowMs: Math.max(5, times[Math.floor(times.length / 2)] ?? 0), end: last! };
}
