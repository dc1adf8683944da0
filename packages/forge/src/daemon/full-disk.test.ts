/**
 * The daemon when the disk under its plugin directory fills up (docs/security.md, "Crash
 * consistency"): an install through the API is refused with FO_IO_NO_SPACE (HTTP 503),
 * audited with what was asked for, and changes nothing; the daemon keeps serving (list,
 * calls of the running plugin); once there is room the same install goes through. On a
 * small tmpfs (root only; skipped with the reason elsewhere, required under CI).
 */
import assert from 'node:assert/strict';
import { readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { mountTmpfs } from '@forgeone/common/testing';
import { signedSample, testDaemon } from '../test-support/daemon.js';
import { signedVariant } from '../test-support/sample-variants.js';
import { signingWorkspace } from '../test-support/workspace.js';

const DAEMON_YAML = '  daemon:\n    socket: run/forge.sock\n    database: run/daemon.db\n    listen: off\n  telemetry:\n    tracing_enabled: false\n    prometheus_listen: off\n';

describe('forge daemon on a full disk', () => {
  it('refuses an install that does not fit with FO_IO_NO_SPACE (503), audits it, keeps serving, and installs once there is room', async (t: TestContext) => {
    const fs = mountTmpfs(t, 8 * 1024 * 1024);
    if (fs === undefined) return;
    try {
      const dir = await signingWorkspace('forge-daemon-full-', DAEMON_YAML);
      const config = join(dir, 'plugin-manager.yaml');
      await writeFile(config, (await readFile(config, 'utf8')).replace('plugin_directory: plugins', `plugin_directory: ${join(fs.dir, 'plugins')}`));
      const d = await testDaemon({ dir });
      t.after(() => d.close());
      const installed = await d.request(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(dir)) });
      assert.equal(installed.status, 200, installed.body.toString('utf8'));
      const other = await readFile(await signedVariant(dir, { name: 'other', version: '1.0.0' }));
      const stats = await statfs(fs.dir);
      await writeFile(join(fs.dir, 'filler'), Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - 16 * 1024)));

      const refused = await d.request(d.socket, { method: 'POST', path: '/v1/plugins', bytes: other });
      assert.equal(refused.status, 503);
      assert.equal((refused.json as { error: { code: string } }).error.code, 'FO_IO_NO_SPACE');
      const audited = (await d.auditEvents()).filter((record) => record['action'] === 'store.install' && record['decision'] === 'deny');
      assert.equal(audited.length, 1, 'the refused install is audited once');
      assert.match(String(audited[0]?.['reason']), /^FO_IO_NO_SPACE: .*no space left/);
      assert.deepEqual(audited[0]?.['data'], { name: 'other', version: '1.0.0', publisher: 'ACME Plugins' }, 'with what was asked for');

      const list = await d.request(d.socket, { method: 'GET', path: '/v1/plugins' });
      assert.deepEqual((list.json as { plugins: { name: string }[] }).plugins.map((plugin) => plugin.name), ['sample-plugin'], 'nothing half-installed');
      const greeting = await d.request(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: Buffer.from('disk') });
      assert.equal(greeting.body.toString('utf8'), 'Hello, disk!', 'the running plugin still answers');

      await rm(join(fs.dir, 'filler'));
      const again = await d.request(d.socket, { method: 'POST', path: '/v1/plugins', bytes: other });
      assert.equal(again.status, 200, again.body.toString('utf8'));
    } finally {
      fs.unmount();
    }
  });
});
