import assert from 'node:assert/strict';
import { runCli } from '../cli/main.js';
import type { Command } from '../cli/command.js';

/** What one CLI run printed and returned. */
export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI in-process with captured output, as the user the tests run as (like
 * bin.ts) unless `uid` says otherwise.
 */
export async function forge(argv: readonly string[], options: { cwd?: string; env?: Record<string, string>; uid?: number; commands?: readonly Command[] } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(
    argv,
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? {},
      uid: options.uid ?? process.geteuid?.(),
    },
    ...(options.commands === undefined ? [] : [options.commands]),
  );
  return { status, stdout, stderr };
}

/** A test file's CLI, bound to the commands it registers. */
export interface BoundCli {
  /** Runs `forge ...argv` in `cwd`. */
  readonly cli: (cwd: string, ...argv: string[]) => Promise<CliRun>;
  /** Runs `forge ...argv` in `cwd`, asserts exit status 0 (the failure message carries stderr) and returns stdout. */
  readonly ok: (cwd: string, ...argv: string[]) => Promise<string>;
}

/** {@link forge} bound to `commands`, with an `ok` that asserts success. */
export function cliFor(commands: readonly Command[]): BoundCli {
  const cli = (cwd: string, ...argv: string[]): Promise<CliRun> => forge(argv, { cwd, commands });
  return {
    cli,
    ok: async (cwd, ...argv) => {
      const run = await cli(cwd, ...argv);
      assert.equal(run.status, 0, `forge ${argv.join(' ')}: ${run.stderr}`);
      return run.stdout;
    },
  };
}

/** The error a `--json` run printed on stdout: `{ "error": { code, message, details } }`. */
export function jsonError(run: CliRun): { code: string; message: string; details: Record<string, unknown> } {
  const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string; details?: Record<string, unknown> } };
  return { code: error.code, message: error.message, details: error.details ?? {} };
}
