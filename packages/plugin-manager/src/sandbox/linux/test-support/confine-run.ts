/**
 * Running a Node script inside a real confined sandbox, for tests: the script (the
 * attacker) is written to a temporary directory bound read-only at /forge, launched
 * through `launchConfined`, and its output collected. Probes the host first and skips
 * with the reason when bubblewrap, namespaces or cgroups are missing, failing instead under CI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { inCi } from '@forgeone/common/testing';
import type { ConfinedVolume, ConfinementSpec } from '../confine.js';
import { launchConfined, type ConfinedExit, type LaunchOptions } from '../launch.js';
import { probeIsolation } from '../probe.js';
import { nodeRuntimePaths } from '../runtime-paths.js';

/** Where the test's scripts appear inside the sandbox. */
export const SCRIPT_GUEST_DIR = '/forge';

let ready: Promise<string | undefined> | undefined;

/** Why confinement cannot run here, or undefined when it can (probed once per process). */
export function confinementUnavailable(): Promise<string | undefined> {
  ready ??= (async () => {
    if (process.platform !== 'linux') return 'Linux only';
    const probe = await probeIsolation();
    const missing = probe.capabilities.filter((capability) => !capability.ok);
    return missing.length === 0 ? undefined : missing.map((capability) => `${capability.name}: ${capability.detail}`).join('; ');
  })();
  return ready;
}

/** False after skipping (failing under CI) when the host cannot confine. */
export async function requireConfinement(t: TestContext): Promise<boolean> {
  const why = await confinementUnavailable();
  if (why === undefined) return true;
  if (inCi()) throw new Error(`the host cannot confine a sandbox (${why}); CI machines must`);
  t.skip(why);
  return false;
}

/** A temporary directory for one test file's scripts and volumes. */
export function scratch(): { readonly dir: string; readonly remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'forge-confine-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What a confined run printed and how it ended. */
export interface ConfinedRun {
  readonly exit: ConfinedExit;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runConfined}. */
export interface RunOptions extends LaunchOptions {
  readonly args?: readonly string[];
  readonly volumes?: readonly ConfinedVolume[];
  readonly env?: Readonly<Record<string, string>>;
  readonly network?: boolean;
  /** Called with each stdout chunk as it arrives (to act while the script runs). */
  readonly onStdout?: (chunk: string) => void;
}

/** The spec for running `scriptDir/name` (bound read-only at /forge) with the host's Node. */
export async function specFor(scriptDir: string, name: string, options: Omit<RunOptions, keyof LaunchOptions> = {}): Promise<ConfinementSpec> {
  return {
    node: process.execPath,
    script: `${SCRIPT_GUEST_DIR}/${name}`,
    args: options.args ?? [],
    runtimePaths: await nodeRuntimePaths(),
    volumes: [{ host: scriptDir, guest: SCRIPT_GUEST_DIR, readOnly: true }, ...(options.volumes ?? [])],
    env: options.env ?? {},
    network: options.network ?? false,
  };
}

/** Writes `source` to `dir/name` and runs it confined to its end. */
export async function runConfined(dir: string, name: string, source: string, options: RunOptions = {}): Promise<ConfinedRun> {
  writeFileSync(join(dir, name), source);
  const box = await launchConfined(await specFor(dir, name, options), options);
  let stdout = '';
  let stderr = '';
  box.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    options.onStdout?.(chunk.toString('utf8'));
  });
  box.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  box.stdin?.end();
  const exit = await box.exited;
  return { exit, stdout, stderr };
}

/** The JSON object on the last line of a run's stdout; fails with the run's output when there is none. */
export function reportOf(run: ConfinedRun): Record<string, unknown> {
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`the confined script printed no report (exit ${JSON.stringify(run.exit)}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
}
