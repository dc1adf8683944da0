import assert from 'node:assert/strict';
import { runCli } from '../cli/main.js';
import type { Command } from '../cli/command.js';

/** What one CLI run printed and returned. */
export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as the bytes written (a call's raw output). */
  readonly stdoutBytes: Buffer;
}

/** How a test runs the CLI. */
export interface ForgeOptions {
  readonly cwd?: string;
  /**
   * The environment the command sees. Default: `FORGE_DAEMON=off` only, so a test never
   * reaches a daemon that happens to run for the user running the tests; tests of the
   * daemon client pass their own.
   */
  readonly env?: Record<string, string>;
  readonly uid?: number;
  readonly commands?: readonly Command[];
  /** Whether stdout and stderr claim to be terminals (default: neither). */
  readonly tty?: { readonly stdout?: boolean; readonly stderr?: boolean };
  /** Passed as the CliIo's signal (ends following commands). */
  readonly signal?: AbortSignal;
  /** Called after every write with the output so far, to wait for a line while a command runs. */
  readonly onOutput?: (run: Omit<CliRun, 'status'>) => void;
}

/** The environment of a test run when it names none. */
export const HERMETIC_ENV: Readonly<Record<string, string>> = Object.freeze({ FORGE_DAEMON: 'off' });

/**
 * Runs the CLI in-process with captured output, as the user the tests run as (like
 * bin.ts) unless `uid` says otherwise.
 */
export async function forge(argv: readonly string[], options: ForgeOptions = {}): Promise<CliRun> {
  const stdout: Buffer[] = [];
  let stderr = '';
  const sofar = (): Omit<CliRun, 'status'> => {
    const bytes = Buffer.concat(stdout);
    return { stdout: bytes.toString('utf8'), stderr, stdoutBytes: bytes };
  };
  const status = await runCli(
    argv,
    {
      stdout: {
        write: (chunk: string | Uint8Array) => {
          stdout.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
          options.onOutput?.(sofar());
        },
        isTTY: options.tty?.stdout === true,
      },
      stderr: {
        write: (text: string) => {
          stderr += text;
          options.onOutput?.(sofar());
        },
        isTTY: options.tty?.stderr === true,
      },
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? { ...HERMETIC_ENV },
      uid: options.uid ?? process.geteuid?.(),
      signal: options.signal,
    },
    ...(options.commands === undefined ? [] : [options.commands]),
  );
  return { status, ...sofar() };
}

/** A test file's CLI, bound to the commands it registers. */
export interface BoundCli {
  /** Runs `forge ...argv` in `cwd`. */
  readonly cli: (cwd: string, ...argv: string[]) => Promise<CliRun>;
  /** Runs `forge ...argv` in `cwd`, asserts exit status 0 (the failure message carries stderr) and returns stdout. */
  readonly ok: (cwd: string, ...argv: string[]) => Promise<string>;
}

/** {@link forge} bound to `commands` (and `env`, default {@link HERMETIC_ENV}), with an `ok` that asserts success. */
export function cliFor(commands: readonly Command[], env?: Record<string, string>): BoundCli {
  const cli = (cwd: string, ...argv: string[]): Promise<CliRun> => forge(argv, { cwd, commands, ...(env === undefined ? {} : { env }) });
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
