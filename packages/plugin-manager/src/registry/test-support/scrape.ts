/**
 * Reading a Prometheus text scrape in tests, and checking it with promtool.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { requireTool } from '@forgeone/common/testing';

/**
 * The value of the sample `name{labels}` (labels matched exactly, in any order), or
 * undefined when the scrape has no such sample.
 */
export function sample(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const wanted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? ''] as const).sort(([a], [b]) => (a < b ? -1 : 1));
    if (found.length === wanted.length && found.every(([key, value], i) => wanted[i]?.[0] === key && wanted[i]?.[1] === value)) return Number(match[3]);
  }
  return undefined;
}

/** The label sets of every sample of `name`. */
export function labelSets(text: string, name: string): Record<string, string>[] {
  const sets: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (match === null || match[1] !== name) continue;
    sets.push(Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? ''])));
  }
  return sets;
}

/**
 * Checks a scrape with `promtool check metrics` (parse errors and lint): skipped with
 * the reason outside CI when promtool is missing, a failure under CI.
 */
export function assertPromtoolAccepts(t: TestContext, text: string): void {
  if (!requireTool(t, 'promtool', ['--version'])) return;
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(run.status, 0, `promtool check metrics: exit ${String(run.status)}\n${run.stdout}${run.stderr}`);
  assert.equal(`${run.stdout}${run.stderr}`.trim(), '', 'promtool reports no problem');
}
