/**
 * A small tmpfs for the disk-full and read-only tests: only root can mount one, and root
 * ignores file modes, so a full or read-only file system is the one honest way to make
 * writes fail with ENOSPC or EROFS. The test probes first and skips with the reason when
 * it cannot mount, except under CI (`CI=true`), where it fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { inCi } from './index.js';

/** A mounted tmpfs; unmounted by {@link Tmpfs.unmount} (call it in a finally). */
export interface Tmpfs {
  /** The mount point. */
  readonly dir: string;
  /** Remounts it read-only (`ro`) or read-write again (`rw`). */
  remount(mode: 'ro' | 'rw'): void;
  /** Unmounts it and removes the mount point. Idempotent. */
  unmount(): void;
}

function run(args: readonly string[]): string | undefined {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (result.error !== undefined) return result.error.message;
  return result.status === 0 ? undefined : `${args.join(' ')}: exit ${result.status}: ${result.stderr.trim()}`;
}

/**
 * Mounts a tmpfs of `sizeBytes` bytes on a fresh directory, or skips the test (fails it
 * under CI) when this process cannot.
 * @returns the mount, or undefined when the test was skipped
 */
export function mountTmpfs(t: TestContext, sizeBytes: number): Tmpfs | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'forge-tmpfs-'));
  const failure = process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : run(['mount', '-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  if (failure !== undefined) {
    rmdirSync(dir);
    if (inCi()) throw new Error(`cannot mount a tmpfs (${failure}); CI runs as root and must`);
    t.skip(failure);
    return undefined;
  }
  let mounted = true;
  return {
    dir,
    remount(mode) {
      const problem = run(['mount', '-o', `remount,${mode}`, dir]);
      if (problem !== undefined) throw new Error(problem);
    },
    unmount() {
      if (!mounted) return;
      // Lazy: a file a failed test left open must not turn its failure into EBUSY here.
      const problem = run(['umount', '-l', dir]);
      if (problem !== undefined) throw new Error(problem);
      mounted = false;
      rmdirSync(dir);
    },
  };
}
