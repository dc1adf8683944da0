/**
 * A child process for the crash and concurrency tests. argv[2] is a JSON
 * {@link ChildJob}. It opens the store, prints `ready`, runs one change and prints
 * one JSON line with the outcome. With `openOnly` it prints `ready` first and then only
 * opens the store (recovering what an earlier kill left), so that a kill lands in the
 * recovery. At the step named by `crashAt` (`install:file:3`
 * is the third `file` step of an install; without a count, the first) it kills itself
 * with SIGKILL; at `pauseAt` it prints `paused <step>` and waits to be killed.
 */
import { ForgeError } from '@forgeone/common';
import { TrustStore } from '../../../attestation/trust-store.js';
import { PluginStore } from '../store.js';
import type { InstallOptions } from '../types.js';

/** What the child does. */
export interface ChildJob {
  readonly directory: string;
  readonly trust: string;
  readonly now: number;
  readonly operation: 'install' | 'uninstall' | 'rollback';
  /** The package path for install, the plugin name otherwise. */
  readonly target: string;
  readonly options?: InstallOptions;
  readonly maxPlugins?: number;
  readonly lockWaitMs?: number;
  readonly crashAt?: string;
  readonly pauseAt?: string;
  /** Print `ready`, open the store (its recovery at open), print `{"ok":true}`; no change. */
  readonly openOnly?: boolean;
}

/** The line a child prints when its change finished (it was not killed). */
export type ChildOutcome = { readonly ok: true; readonly version: string | undefined } | { readonly ok: false; readonly code: string; readonly message: string };

const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
const seen = new Map<string, number>();

function matches(wanted: string | undefined, key: string, count: number): boolean {
  return wanted !== undefined && (wanted === `${key}:${count}` || (wanted === key && count === 1));
}

if (job.openOnly === true) {
  process.stdout.write('ready\n');
  await PluginStore.open({ directory: job.directory, verification: { verifySignatures: true, trustStore: await TrustStore.load(job.trust), now: job.now } });
  process.stdout.write('{"ok":true}\n');
  process.exit(0);
}

const store = await PluginStore.open({
  directory: job.directory,
  verification: { verifySignatures: true, trustStore: await TrustStore.load(job.trust), now: job.now },
  ...(job.maxPlugins === undefined ? {} : { maxPlugins: job.maxPlugins }),
  ...(job.lockWaitMs === undefined ? {} : { lockWaitMs: job.lockWaitMs }),
  onStep: async (operation, step) => {
    const key = `${operation}:${step}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (matches(job.crashAt, key, count)) process.kill(process.pid, 'SIGKILL');
    if (matches(job.pauseAt, key, count)) {
      process.stdout.write(`paused ${key}\n`);
      await new Promise(() => setInterval(() => undefined, 60_000));
    }
  },
});
process.stdout.write('ready\n');

let outcome: ChildOutcome;
try {
  if (job.operation === 'install') outcome = { ok: true, version: (await store.install(job.target, job.options ?? {})).plugin.version };
  else if (job.operation === 'uninstall') outcome = { ok: true, version: (await store.uninstall(job.target)).version };
  else outcome = { ok: true, version: (await store.rollback(job.target)).version };
} catch (error) {
  outcome = ForgeError.is(error) ? { ok: false, code: error.code, message: error.message } : { ok: false, code: 'THROWN', message: String(error) };
}
process.stdout.write(`${JSON.stringify(outcome)}\n`);
