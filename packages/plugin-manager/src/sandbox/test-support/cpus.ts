/**
 * Helpers for the tests of thread-priority.ts HostCpuAvoider (pool-cpu.test.ts,
 * process/cpu.test.ts): the CPUs a thread may run on, read from /proc, and pinning one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { inCi } from '@forgeone/common/testing';
import { threadSchedBuilt } from '../thread-priority.js';

/** The CPUs a thread may run on, as a sorted list: `tid` of this process (default: this thread), or a /proc/.../status path. */
export function allowed(tid: string | number = 'thread-self'): number[] {
  const path = typeof tid === 'string' && tid.startsWith('/') ? tid : tid === 'thread-self' ? '/proc/thread-self/status' : `/proc/self/task/${tid}/status`;
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(path, 'utf8'))?.[1] ?? '';
  return list.split(',').flatMap((range) => {
    const [from = 0, to = from] = range.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** Skips (outside CI; fails in CI) where the avoider cannot work: one CPU, or no native module. */
export function requireCpus(t: TestContext): boolean {
  const problem = !threadSchedBuilt() ? 'thread-sched.node was not built (scripts/build-native.mjs)' : allowed().length < 2 ? 'this process may run on one CPU only' : undefined;
  if (problem === undefined) return true;
  if (inCi()) assert.fail(`CI must run the CPU avoidance tests: ${problem}`);
  t.skip(problem);
  return false;
}

/** Reads `read()` until `done` holds for it, for up to `limitMs` (default 5 s); the last reading. */
export async function until<T>(read: () => T, done: (value: T) => boolean, limitMs = 5000): Promise<T> {
  const end = Date.now() + limitMs;
  let value = read();
  while (!done(value) && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = read();
  }
  return value;
}

/** Pins thread `tid` (or with `all`, every thread of process `tid`) to `cpu`, a CPU or a list (taskset). */
export function pin(tid: string | number, cpu: number | string, all = false): void {
  const result = spawnSync('taskset', [...(all ? ['-a'] : []), '-p', '-c', String(cpu), String(tid)], { encoding: 'utf8' });
  assert.equal(result.status, 0, `taskset: ${result.stderr}`);
}
