import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliFor, forge } from '../../../test-support/cli.js';
import { fileURLToPath } from 'node:url';
import { lint } from './lint.js';

const { cli } = cliFor([lint]);
const REPO = fileURLToPath(new URL('../../../../../../', import.meta.url));
const repoRoot = (): string => REPO;
const cPlugin = (): string => join(REPO, 'examples', 'c-plugin');

describe('forge lint', () => {
  it('renders help with every flag', async () => {
    const run = await forge(['lint', '--help'], { commands: [lint] });
    assert.equal(run.status, 0);
    for (const flag of lint.flags) assert.ok(run.stdout.includes(`--${flag.name}`), `--${flag.name}`);
  });

  it('exits 0 for examples/c-plugin and says so', async () => {
    const run = await cli(repoRoot(), 'lint', 'examples/c-plugin');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /c-plugin: ok \(0 errors, 0 warnings\)\n$/);
  });

  it('exits 3 and lists every problem of a broken plugin, as text and as {ok, problems}', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-lint-cli-'));
    await copyFile(join(cPlugin(), 'plugin.wasm'), join(dir, 'plugin.wasm'));
    // No kv permission (the module imports forge.kv_get and kv_set), and a start step it does not export.
    const toml = (await readFile(join(cPlugin(), 'plugin.toml'), 'utf8')).replace(/syscalls = \[[^\]]*\]/, 'syscalls = []').replace('[entry_points]', '[entry_points]\nstart = "no_such_export"');
    await writeFile(join(dir, 'plugin.toml'), toml);
    const human = await cli(dir, 'lint', '.');
    assert.equal(human.status, 3);
    assert.match(human.stdout, /error {3}FO_LINT_ENTRY_POINT_MISSING {2}plugin\.wasm: entry point start = "no_such_export"/);
    assert.match(human.stdout, /failed \(3 errors, 0 warnings\)\n$/);
    const json = await cli(dir, 'lint', '.', '--json');
    assert.equal(json.status, 3);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; problems: { code: string; severity: string }[] };
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.problems.map((p) => p.code), ['FO_LINT_ENTRY_POINT_MISSING', 'FO_LINT_IMPORT_NOT_PERMITTED', 'FO_LINT_IMPORT_NOT_PERMITTED']);
  });

  it('exits 3 with --require-signature for an unsigned directory', async () => {
    const run = await cli(repoRoot(), 'lint', 'examples/c-plugin', '--require-signature', '--json');
    assert.equal(run.status, 3);
    assert.deepEqual((JSON.parse(run.stdout) as { problems: { code: string }[] }).problems.map((p) => p.code), ['FO_LINT_UNSIGNED']);
  });
});
