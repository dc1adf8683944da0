import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '../errors/index.js';
import { defaultConfig, parseConfig } from './index.js';
import { SYSTEM_STATE_DIRECTORY, stateDirectory, statePaths } from './paths.js';

const source = { name: 'pm.yaml', baseDir: '/srv/conf' };

describe('state directory', () => {
  it('is /var/lib/forgeone for root, whatever the environment says', () => {
    assert.deepEqual(stateDirectory({ uid: 0, env: { XDG_STATE_HOME: '/x', HOME: '/root' } }), { path: SYSTEM_STATE_DIRECTORY, source: 'system' });
  });

  it('is $XDG_STATE_HOME/forgeone for another user, else ~/.local/state/forgeone', () => {
    assert.deepEqual(stateDirectory({ uid: 1000, env: { XDG_STATE_HOME: '/home/u/st', HOME: '/home/u' } }), { path: '/home/u/st/forgeone', source: 'XDG_STATE_HOME' });
    assert.deepEqual(stateDirectory({ uid: 1000, env: { HOME: '/home/u' } }), { path: '/home/u/.local/state/forgeone', source: 'HOME' });
    assert.deepEqual(stateDirectory({ uid: undefined, env: {}, home: '/home/p' }), { path: '/home/p/.local/state/forgeone', source: 'HOME' });
  });

  it('ignores a relative XDG_STATE_HOME, as the XDG specification says', () => {
    assert.deepEqual(stateDirectory({ uid: 1000, env: { XDG_STATE_HOME: 'state', HOME: '/home/u' } }).path, '/home/u/.local/state/forgeone');
  });

  it('refuses to guess when neither XDG_STATE_HOME nor a home directory is absolute', () => {
    assert.throws(
      () => stateDirectory({ uid: 1000, env: { XDG_STATE_HOME: 'rel', HOME: '' }, home: 'also-rel' }),
      (error: unknown) => ForgeError.is(error, 'FO_CONFIG_NO_STATE_DIRECTORY') && /XDG_STATE_HOME or HOME/.test(error.message),
    );
  });

  it('gives root exactly the schema defaults', () => {
    const paths = statePaths({ path: SYSTEM_STATE_DIRECTORY, source: 'system' });
    const defaults = defaultConfig();
    assert.deepEqual(paths, {
      plugin_directory: defaults.plugin_directory,
      temp_directory: defaults.temp_directory,
      audit_path: defaults.audit.path,
      checkpoint_key: defaults.audit.checkpoint_key,
      daemon_socket: defaults.daemon.socket,
      daemon_database: defaults.daemon.database,
      marketplace_cache: defaults.marketplace.cache_directory,
    });
  });
});

describe('configuration with a per-user state directory', () => {
  const statePathsOfUser = statePaths({ path: '/home/u/.local/state/forgeone', source: 'HOME' });

  it('puts every absent state path under the state directory', () => {
    for (const config of [defaultConfig({ statePaths: statePathsOfUser }), parseConfig('plugin_manager:\n  max_plugins: 3\n', source, { statePaths: statePathsOfUser })]) {
      assert.equal(config.plugin_directory, '/home/u/.local/state/forgeone/plugins');
      assert.equal(config.temp_directory, '/home/u/.local/state/forgeone/tmp');
      assert.equal(config.audit.path, '/home/u/.local/state/forgeone/audit/audit.log');
      assert.equal(config.audit.checkpoint_key, '/home/u/.local/state/forgeone/audit/checkpoint-key.pem');
      assert.equal(config.security.trust_store, '/etc/forgeone/trust');
    }
  });

  it('takes a path the file names as written, relative to the file', () => {
    const config = parseConfig('plugin_manager:\n  plugin_directory: plugins\n  audit:\n    level: all\n    path: /var/log/forge.log\n', source, { statePaths: statePathsOfUser });
    assert.equal(config.plugin_directory, '/srv/conf/plugins');
    assert.equal(config.audit.path, '/var/log/forge.log');
    assert.equal(config.audit.level, 'all');
    assert.equal(config.audit.checkpoint_key, '/home/u/.local/state/forgeone/audit/checkpoint-key.pem');
  });

  it('still refuses an explicit null or a malformed table rather than filling it', () => {
    for (const text of ['plugin_manager:\n  plugin_directory: null\n', 'plugin_manager:\n  audit: 3\n', 'plugin_manager: [1]\n']) {
      assert.throws(() => parseConfig(text, source, { statePaths: statePathsOfUser }), (error: unknown) => ForgeError.is(error, 'FO_CONFIG_INVALID'), text);
    }
  });
});
