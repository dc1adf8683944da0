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
