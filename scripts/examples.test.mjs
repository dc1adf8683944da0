// Runs the examples as users would, so they keep working (CI runs this through npm test).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('examples/host-embedding', () => {
  for (const backend of ['inline', 'pool']) {
    it(`runs the original embedding flow on the ${backend} backend`, () => {
      const run = spawnSync(process.execPath, ['examples/host-embedding/dist/main.js', backend], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^loaded sample-plugin 0\.1\.0 signed by Example Publisher \(sha256:[0-9a-f]{12}\.\.\.\), state created$/m);
      assert.match(run.stdout, new RegExp(`^initialised in [0-9.]+ ms on the ${backend} backend$`, 'm'));
      assert.match(run.stdout, /^greet\("ForgeOne"\) -> Hello, ForgeOne!$/m);
      assert.match(run.stdout, /^resumed; the waiting call got: Hello, paused caller!$/m);
      assert.match(run.stdout, /^may the plugin open \/etc\/passwd\? wasi_snapshot_preview1\.path_open needs permissions\.filesystem to include "read"$/m);
      assert.match(run.stdout, /^unloaded; plugins loaded: 0$/m);
    });
  }
});
