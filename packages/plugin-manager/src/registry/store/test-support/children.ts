/** Running {@link ChildJob}s in child processes, for the crash and concurrency tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildJob, ChildOutcome } from './store-child.js';

const CHILD = fileURLToPath(new URL('./store-child.js', import.meta.url));

/** How a child ended: by signal (killed) or with an outcome line. */
export interface ChildEnd {
  readonly signal: NodeJS.Signals | null;
  readonly outcome: ChildOutcome | undefined;
  readonly stderr: string;
}

function outcomeOf(stdout: string): ChildOutcome | undefined {
  const line = stdout.split('\n').find((text) => text.startsWith('{'));
  return line === undefined ? undefined : (JSON.parse(line) as ChildOutcome);
}

/** Runs a job to its end (completion or its own SIGKILL). */
export function runChild(job: ChildJob): ChildEnd {
  const result = spawnSync(process.execPath, [CHILD, JSON.stringify(job)], { encoding: 'utf8' });
  return { signal: result.signal, outcome: outcomeOf(result.stdout), stderr: result.stderr };
}

/** A running child whose output lines can be awaited. */
export class LiveChild {
  readonly process: ChildProcess;
  readonly ended: Promise<ChildEnd>;
  #lines: string[] = [];
  #waiters: { readonly prefix: string; readonly resolve: (line: string) => void }[] = [];

  constructor(job: ChildJob) {
    this.process = spawn(process.execPath, [CHILD, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    this.process.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const lines = createInterface({ input: this.process.stdout! });
    lines.on('line', (line) => {
      this.#lines.push(line);
      for (const waiter of this.#waiters.filter((w) => line.startsWith(w.prefix))) waiter.resolve(line);
      this.#waiters = this.#waiters.filter((w) => !line.startsWith(w.prefix));
    });
    this.ended = new Promise((resolve) => {
      this.process.once('close', (_code, signal) => resolve({ signal, outcome: outcomeOf(this.#lines.join('\n')), stderr }));
    });
  }

  /** Resolves with the first line starting with `prefix` (already printed or to come). */
  line(prefix: string): Promise<string> {
    const seen = this.#lines.find((line) => line.startsWith(prefix));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ prefix, resolve });
      void this.ended.then((end) => reject(new Error(`child ended (${end.signal ?? 'exit'}) before printing "${prefix}": ${end.stderr}`)));
    });
  }

  kill(): Promise<ChildEnd> {
    this.process.kill('SIGKILL');
    return this.ended;
  }
}
