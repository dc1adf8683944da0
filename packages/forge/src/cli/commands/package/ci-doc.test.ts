/**
 * docs/guide/ci.md cannot rot: every `forge` command in its setup and workflow blocks
 * runs here, in order, on examples/c-plugin, and must succeed.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forge } from '../../../test-support/cli.js';
import { COMMANDS } from '../index.js';

const REPO = fileURLToPath(new URL('../../../../../../', import.meta.url));

/** The forge command lines of the guide's ```sh and ```yaml blocks, in order. */
function forgeLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|yaml)\n([\s\S]*?)```/g)) {
    for (const raw of (block[1] ?? '').split('\n')) {
      const line = raw.trim().replace(/^- run: /, '');
      if (line.startsWith('forge ')) lines.push(line.replace(/\s+#.*$/, ''));
    }
  }
  return lines;
}

/** Splits a command line into words, keeping double-quoted words whole. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}

describe('docs/guide/ci.md', () => {
  it('runs every forge step of the guide on examples/c-plugin: lint, pack, lint, sign, verify, lint with a required signature', async () => {
    const lines = forgeLines(await readFile(join(REPO, 'docs', 'guide', 'ci.md'), 'utf8'));
    const verbs = lines.map((line) => words(line)[1]);
    assert.deepEqual(verbs, ['ca', 'keygen', 'ca', 'lint', 'pack', 'lint', 'sign', 'verify', 'lint']);
    const dir = await mkdtemp(join(tmpdir(), 'forge-ci-doc-'));
    await mkdir(join(dir, 'plugin'));
    for (const file of ['plugin.toml', 'plugin.wasm']) await copyFile(join(REPO, 'examples', 'c-plugin', file), join(dir, 'plugin', file));
    let last = '';
    for (const line of lines) {
      const run = await forge(words(line).slice(1), { cwd: dir, commands: COMMANDS });
      assert.equal(run.status, 0, `${line}\n${run.stdout}${run.stderr}`);
      last = run.stdout;
    }
    // The last step: the signed package, verified, without a single problem.
    const result = JSON.parse(last) as { ok: boolean; kind: string; problems: unknown[] };
    assert.deepEqual({ ok: result.ok, kind: result.kind, problems: result.problems }, { ok: true, kind: 'package', problems: [] });
  });
});
