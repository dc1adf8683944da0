// The plugin's own test, all through the forge CLI, the way it will reach a daemon: lint it,
// pack it, sign it with a throwaway publisher certificate, install it into a store in a temp
// directory (verified against that certificate's CA), call it. `npm test` builds first.
// FORGE_CLI names the forge CLI to use (default: the one that ran `forge init`, else `forge`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('..', import.meta.url));
const initCli = "{{forge_cli}}";
const cli = process.env.FORGE_CLI ?? (existsSync(initCli) ? initCli : 'forge');
const work = mkdtempSync(join(tmpdir(), '{{name}}-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs forge in the temp directory, never through a running daemon. */
function forge(...args) {
  const [command, first] = cli.endsWith('.js') ? [process.execPath, [cli]] : [cli, []];
  return spawnSync(command, [...first, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, FORGE_DAEMON: 'off' } });
}

/** Runs forge and returns its stdout, failing the test with its stderr when it fails. */
function ok(...args) {
  const result = forge(...args);
  assert.equal(result.status, 0, `forge ${args.join(' ')} failed:\n${result.error?.message ?? result.stderr}`);
  return result.stdout;
}

// Everything forge writes stays in the temp directory: the store, the audit log, its key.
const CONFIG = `plugin_manager:
  plugin_directory: plugins
  temp_directory: tmp
  security:
    trust_store: ca/ca.pem
  audit:
    path: audit/audit.log
    checkpoint_key: audit/checkpoint-key.pem
`;

before(() => {
  ok('lint', project);
  ok('pack', project, '-o', 'plugin.forgepkg');
  ok('ca', 'init', '--out', 'ca');
  ok('keygen', '--out', 'publisher');
  ok('ca', 'issue', '--ca', 'ca', '--pub', 'publisher.pub', '--name', 'test publisher', '--out', 'publisher.pem');
  ok('sign', 'plugin.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem');
  writeFileSync(join(work, 'pm.yaml'), CONFIG);
  ok('install', 'plugin.forgepkg', '--config', 'pm.yaml');
});

test('hello greets by name', () => {
  assert.equal(ok('call', '{{name}}', 'hello', 'World', '--config', 'pm.yaml'), 'Hello, World!');
});

test('hello refuses an empty name with the code E_EMPTY', () => {
  const result = forge('call', '{{name}}', 'hello', '', '--config', 'pm.yaml');
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /E_EMPTY/);
});
