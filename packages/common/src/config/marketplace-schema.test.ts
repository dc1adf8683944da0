import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '../errors/index.js';
import { parseConfig, type ConfigIssue } from './index.js';

const source = { name: 'plugin-manager.yaml', baseDir: '/etc/forgeone' };

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text, source);
  } catch (error) {
    assert.ok(ForgeError.is(error, 'FO_CONFIG_INVALID'), String(error));
    return error.details['issues'] as ConfigIssue[];
  }
  assert.fail(`expected FO_CONFIG_INVALID for ${JSON.stringify(text)}`);
}

describe('plugin_manager.marketplace', () => {
  it('has no marketplace by default and resolves its paths from the file\'s directory', () => {
    const none = parseConfig('plugin_manager: {}\n', source);
    assert.equal(none.marketplace.url, undefined);
    assert.equal(none.marketplace.refresh_interval, 3_600_000);
    const config = parseConfig(
      'plugin_manager:\n  marketplace:\n    url: https://market.example.org/forge\n    trusted_root: market/root.json\n    cache_directory: cache\n    refresh_interval: 10m\n    max_index_size: 1MB\n',
      source,
    );
    assert.equal(config.marketplace.url, 'https://market.example.org/forge');
    assert.equal(config.marketplace.trusted_root, '/etc/forgeone/market/root.json');
    assert.equal(config.marketplace.cache_directory, '/etc/forgeone/cache');
    assert.equal(config.marketplace.refresh_interval, 600_000);
    assert.equal(config.marketplace.max_index_size, 1024 * 1024);
  });

  it('refuses an unknown key, a URL with credentials, query or another scheme, and a bad interval', () => {
    const issues = issuesOf(
      'plugin_manager:\n  marketplace:\n    url: https://user:pw@market.example.org/\n    trusted_root: r.json\n    refresh: 10m\n    refresh_interval: 0s\n',
    );
    assert.deepEqual(issues.map((issue) => issue.path).sort(), [
      'plugin_manager.marketplace.refresh',
      'plugin_manager.marketplace.refresh_interval',
      'plugin_manager.marketplace.url',
    ]);
    for (const url of ['ftp://market.example.org/', 'https://market.example.org/?a=1', 'file:///srv/market', 'not a url']) {
      const found = issuesOf(`plugin_manager:\n  marketplace:\n    url: "${url}"\n    trusted_root: r.json\n`);
      assert.deepEqual(found.map((issue) => issue.path), ['plugin_manager.marketplace.url'], url);
    }
  });

  it('refuses a URL without a pinned root, and a root without a URL', () => {
    assert.deepEqual(
      issuesOf('plugin_manager:\n  marketplace:\n    url: http://127.0.0.1:8080/\n').map((issue) => [issue.path, issue.found]),
      [['plugin_manager.marketplace.trusted_root', 'only url']],
    );
    assert.deepEqual(
      issuesOf('plugin_manager:\n  marketplace:\n    trusted_root: root.json\n').map((issue) => [issue.path, issue.found]),
      [['plugin_manager.marketplace.url', 'only trusted_root']],
    );
  });
});
