import { spawnSync } from 'node:child_process';
import { chownSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inCi } from '@forgeone/common/testing';
import type { CliRun } from './cli.js';

/** The committed launcher, as npm links it. */
export const FORGE_BIN = fileURLToPath(new URL('../../bin/forge.js', import.meta.url));

/** The user tests run forge as: the current one if not root, else nobody (65534). */
export interface TestUser {
  /** Undefined: run as the current (already unprivileged) user. */
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

const NOBODY = 65534;

/**
 * Probes that forge can run as an unprivileged user: as root, a child process with
 * uid/gid 65534 must start and read the built CLI. When it cannot, the test is skipped
 * with the reason, except under CI, where it fails.
 *
 * @returns the user, or undefined when the test was skipped
 */
export function unprivilegedUser(t: TestContext): TestUser | undefined {
  if (process.geteuid?.() !== 0) return { uid: undefined, gid: undefined };
  const probe = spawnSync(process.execPath, [FORGE_BIN, '--version'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  if (probe.status === 0) return { uid: NOBODY, gid: NOBODY };
  const reason = `cannot run forge as uid ${NOBODY} (${probe.error?.message ?? `exit ${probe.status}: ${probe.stderr.trim()}`}); the checkout must be readable by other users`;
  if (inCi()) throw new Error(reason);
  t.skip(reason);
  return undefined;
}

/** Gives a directory tree to the test user, so it can work there as its owner. */
export function giveTo(user: TestUser, dir: string): void {
  if (user.uid === undefined || user.gid === undefined) return;
  chownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const info = lstatSync(path);
    if (info.isDirectory()) giveTo(user, path);
    // A link itself, never what it points to, which may be outside the tree.
    else if (info.isSymbolicLink()) lchownSync(path, user.uid, user.gid);
    else chownSync(path, user.uid, user.gid);
  }
}

/** Runs the real forge process as `user` with only `env` (plus PATH) in its environment. */
export function forgeAs(user: TestUser, argv: readonly string[], options: { cwd: string; env: Record<string, string> }): CliRun {
  const run = spawnSync(process.execPath, [FORGE_BIN, ...argv], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    timeout: 60_000,
    ...(user.uid === undefined ? {} : { uid: user.uid, gid: user.gid }),
  });
  if (run.error !== undefined) throw run.error;
  return { status: run.status ?? -1, stdout: run.stdout.toString('utf8'), stderr: run.stderr.toString('utf8'), stdoutBytes: run.stdout };
}
