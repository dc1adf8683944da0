import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { forge } from '../../../test-support/cli.js';

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-config-check-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('forge config check', () => {
  it('prints the normalised configuration as YAML, with relative paths made absolute', async () => {
    const dir = await dirWith({ 'pm.yaml': 'plugin_manager:\n  plugin_directory: plugins\n  sandbox:\n    memory_limit: 1GB\n' });
    const run = await forge(['config', 'check', 'pm.yaml'], { cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    const doc = parse(run.stdout) as { plugin_manager: { plugin_directory: string; sandbox: { memory_limit: string }; default_timeout: string } };
    assert.equal(doc.plugin_manager.plugin_directory, join(dir, 'plugins'));
    assert.equal(doc.plugin_manager.sandbox.memory_limit, '1GiB');
    assert.equal(doc.plugin_manager.default_timeout, '30s');
    assert.match(run.stderr, /pm\.yaml: valid/);
  });

  it('warns about grants that hand secrets, volumes or hosts to a name without naming its publisher', async () => {
    const grants =
      'plugin_manager:\n  policy:\n    grants:\n      wallet:\n        config:\n          api_key: s3cret\n      bound:\n        publisher: ACME\n        config:\n          api_key: s3cret\n      empty: {}\n';
    const dir = await dirWith({ 'pm.yaml': grants });
    const run = await forge(['config', 'check', 'pm.yaml'], { cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning: '));
    assert.deepEqual(warnings, [
      'warning: policy.grants.wallet names no publisher, so a plugin called wallet from any trusted publisher gets its config values, volumes and hosts; add publisher: "<the publisher>"',
    ]);
    const json = JSON.parse((await forge(['config', 'check', 'pm.yaml', '--json'], { cwd: dir })).stdout) as { warnings: string[] };
    assert.equal(json.warnings.length, 1);
  });

  it('finds ./plugin-manager.yaml, then $FORGE_CONFIG, else prints the defaults', async () => {
    const dir = await dirWith({ 'plugin-manager.yaml': 'plugin_manager:\n  max_plugins: 7\n', 'other.yaml': 'plugin_manager:\n  max_plugins: 9\n' });
    const local = await forge(['config', 'check', '--json'], { cwd: dir });
    assert.equal((JSON.parse(local.stdout) as { config: { plugin_manager: { max_plugins: number } } }).config.plugin_manager.max_plugins, 7);
    const fromEnv = await forge(['config', 'check', '--json'], { cwd: dir, env: { FORGE_CONFIG: 'other.yaml' } });
    assert.equal((JSON.parse(fromEnv.stdout) as { config: { plugin_manager: { max_plugins: number } } }).config.plugin_manager.max_plugins, 9);
    const none = await forge(['config', 'check'], { cwd: await dirWith({}) });
    assert.equal(none.status, 0);
    assert.match(none.stderr, /built-in defaults/);
  });

  it('lists every problem with its key path and exits 3', async () => {
    const dir = await dirWith({ 'bad.yaml': 'plugin_manager:\n  max_plugins: lots\n  sandbox:\n    memroy_limit: 1GB\n' });
    const run = await forge(['config', 'check', 'bad.yaml', '--json'], { cwd: dir });
    assert.equal(run.status, 3);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; details: { issues: { path: string; line: number }[] } } };
    assert.equal(error.code, 'FO_CONFIG_INVALID');
    assert.deepEqual(
      error.details.issues.map((issue) => [issue.path, issue.line]),
      [
        ['plugin_manager.max_plugins', 2],
        ['plugin_manager.sandbox.memroy_limit', 4],
      ],
    );
    assert.match(run.stderr, /line 2: plugin_manager\.max_plugins: expected an integer from 1 to 1000000, found "lots"/);
  });

  it('exits 6 for a named file that does not exist', async () => {
    const run = await forge(['config', 'check', 'absent.yaml'], { cwd: await dirWith({}) });
    assert.equal(run.status, 6);
    assert.match(run.stderr, /FO_CONFIG_NOT_FOUND/);
  });
});
