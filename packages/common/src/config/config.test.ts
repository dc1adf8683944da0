import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ForgeError } from '../errors/index.js';
import { rejectsWithCode, throwsCode } from '../testing/error-codes.js';
import { configToDocument, defaultConfig, loadConfigFile, parseConfig, type ConfigIssue } from './index.js';

/** The example from the original project description, verbatim. */
const SEED_EXAMPLE = `# plugin-manager.yaml
plugin_manager:
  plugin_directory: "/var/lib/forgeone/plugins"
  temp_directory: "/tmp/forgeone/plugins"
  max_plugins: 1000
  default_timeout: 30s
  
  sandbox:
    memory_limit: 512MB
    cpu_limit: 2
    file_descriptor_limit: 1024
    network_access: restricted
    
  telemetry:
    metrics_enabled: true
    tracing_enabled: true
    log_level: info
    prometheus_endpoint: "/metrics"
    
  security:
    verify_signatures: true
    enforce_permissions: true
    audit_logging: true
    namespace_isolation: true
`;

const source = { name: 'plugin-manager.yaml', baseDir: '/etc/forgeone' };

/** The issues of the FO_CONFIG_INVALID that `text` must raise. */
function issuesOf(text: string): ConfigIssue[] {
  return throwsCode(() => parseConfig(text, source), 'FO_CONFIG_INVALID').details['issues'] as ConfigIssue[];
}

describe('configuration', () => {
  it('parses the original example with units normalised', () => {
    const config = parseConfig(SEED_EXAMPLE, source);
    assert.equal(config.plugin_directory, '/var/lib/forgeone/plugins');
    assert.equal(config.default_timeout, 30_000);
    assert.equal(config.sandbox.memory_limit, 512 * 1024 * 1024);
    assert.equal(config.sandbox.cpu_limit, 2);
    assert.equal(config.sandbox.network_access, 'restricted');
    assert.equal(config.telemetry.prometheus_endpoint, '/metrics');
    assert.equal(config.security.namespace_isolation, true);
  });

  it('caps tables by default (threat B: thousands of tables exhaust the host heap) and refuses nonsense table limits', () => {
    const config = parseConfig(SEED_EXAMPLE, source);
    assert.equal(config.sandbox.max_tables, 100);
    assert.equal(config.sandbox.max_table_elements, 1_000_000);
    const issues = issuesOf('plugin_manager:\n  sandbox:\n    max_tables: -1\n    max_table_elements: 1.5\n');
    assert.deepEqual(issues.map((issue) => issue.path), ['plugin_manager.sandbox.max_tables', 'plugin_manager.sandbox.max_table_elements']);
  });

  it('folds a call\'s allowed audit records past 1000 by default and refuses a max_call_records of 0, -1 or "x" with FO_CONFIG_INVALID', () => {
    assert.equal(parseConfig(SEED_EXAMPLE, source).audit.max_call_records, 1000);
    assert.equal(parseConfig('plugin_manager:\n  audit:\n    max_call_records: 5\n', source).audit.max_call_records, 5);
    for (const bad of ['0', '-1', '"x"', '1.5']) {
      const issues = issuesOf(`plugin_manager:\n  audit:\n    max_call_records: ${bad}\n`);
      assert.deepEqual(issues.map((issue) => issue.path), ['plugin_manager.audit.max_call_records'], bad);
    }
  });

  it('uses the original example as its defaults', () => {
    assert.deepEqual(parseConfig(SEED_EXAMPLE, source), defaultConfig());
    assert.deepEqual(parseConfig('', source), defaultConfig());
  });

  it('resolves relative directories against the configuration file', () => {
    const config = parseConfig(
      'plugin_manager:\n  plugin_directory: plugins\n  temp_directory: ../tmp\n  security:\n    trust_store: trust\n    signer_policy: policy.json\n  audit:\n    path: audit/audit.log\n    checkpoint_key: keys/ck.pem\n',
      source,
    );
    assert.equal(config.plugin_directory, '/etc/forgeone/plugins');
    assert.equal(config.temp_directory, '/etc/tmp');
    assert.equal(config.security.trust_store, '/etc/forgeone/trust');
    assert.equal(config.security.signer_policy, '/etc/forgeone/policy.json');
    assert.equal(config.audit.path, '/etc/forgeone/audit/audit.log');
    assert.equal(config.audit.checkpoint_key, '/etc/forgeone/keys/ck.pem');
  });

  it('rejects unknown keys with their path and line', () => {
    const issues = issuesOf('plugin_manager:\n  sandbox:\n    memory_limt: 1GB\n  colour: blue\nother: 1\n');
    assert.deepEqual(
      issues.map((issue) => [issue.path, issue.line]),
      [
        ['plugin_manager.sandbox.memory_limt', 3],
        ['plugin_manager.colour', 4],
        ['other', 5],
      ],
    );
    assert.match(issues[0]!.expected, /known keys: memory_limit, cpu_limit/);
  });

  it('suggests the closest known key for a misspelt one, and nothing for a key far from all', () => {
    const text = 'plugin_manager:\n  plugin_directroy: x\n  sandbox:\n    memory_limt: 1GB\n  policy:\n    grants:\n      notes:\n        hostz: []\n  colour: blue\n';
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((issue) => [issue.path, issue.suggestion]),
      [
        ['plugin_manager.plugin_directroy', 'plugin_directory'],
        ['plugin_manager.sandbox.memory_limt', 'memory_limit'],
        ['plugin_manager.policy.grants.notes.hostz', 'hosts'],
        ['plugin_manager.colour', undefined],
      ],
    );
    assert.throws(
      () => parseConfig(text, source),
      (error: unknown) => ForgeError.is(error) && /line 2: plugin_manager\.plugin_directroy: .*\(did you mean plugin_directory\?\)$/m.test(error.message),
    );
  });

  it('rejects every bad value in one error', () => {
    const issues = issuesOf(`plugin_manager:
  max_plugins: -3
  default_timeout: 30
  sandbox:
    memory_limit: 8GB
    network_access: open
  telemetry:
    metrics_enabled: yes
    prometheus_endpoint: metrics
`);
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [
        'plugin_manager.max_plugins',
        'plugin_manager.default_timeout',
        'plugin_manager.sandbox.memory_limit',
        'plugin_manager.sandbox.network_access',
        'plugin_manager.telemetry.metrics_enabled',
        'plugin_manager.telemetry.prometheus_endpoint',
      ],
    );
    assert.equal(issues[4]!.found, '"yes"');
  });

  it('reports YAML syntax errors and duplicate keys with a line number', () => {
    throwsCode(() => parseConfig('plugin_manager:\n  max_plugins: [1,\n', source), 'FO_CONFIG_SYNTAX');
    assert.match(throwsCode(() => parseConfig('plugin_manager:\n  max_plugins: 1\n  max_plugins: 2\n', source), 'FO_CONFIG_SYNTAX').message, /:3:/);
  });

  it('refuses a mapping or sequence used as a key with FO_CONFIG_SYNTAX and its line, printing no warning', () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const seq = throwsCode(() => parseConfig('plugin_manager:\n  max_plugins: 3\n  ? [a, b]\n  : 1\n', source), 'FO_CONFIG_SYNTAX');
      assert.match(seq.message, /:3:\d+: a key must be a plain value, found a sequence/);
      assert.deepEqual(seq.details, { file: source.name, line: 3, column: 5 });
      const map = throwsCode(() => parseConfig('plugin_manager:\n  runtime:\n    ? {x: 1}\n    : 2\n', source), 'FO_CONFIG_SYNTAX');
      assert.match(map.message, /:3:\d+: a key must be a plain value, found a mapping/);
      const alias = throwsCode(() => parseConfig('anchors: &k [1]\nplugin_manager:\n  ? *k\n  : 1\n', source), 'FO_CONFIG_SYNTAX');
      assert.match(alias.message, /:3:\d+: a key must be a plain value, found an alias/);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i += 1) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    assert.throws(() => parseConfig(`${levels.join('\n')}\n`, source), (error: unknown) => ForgeError.is(error) && /alias|FO_CONFIG/.test(`${error.code} ${error.message}`));
  });

  it('writes a normalised document that parses back to the same configuration', () => {
    const config = parseConfig(SEED_EXAMPLE, source);
    const document = configToDocument(config);
    assert.deepEqual((document.plugin_manager as { sandbox: unknown }).sandbox, {
      memory_limit: '512MiB',
      cpu_limit: 2,
      file_descriptor_limit: 1024,
      network_access: 'restricted',
      max_tables: 100,
      max_table_elements: 1_000_000,
    });
    assert.deepEqual(parseConfig(JSON.stringify(document), source), config);
    assert.deepEqual(parseYaml(JSON.stringify(document)), document);
  });

  it('loads files and names a missing one with FO_CONFIG_NOT_FOUND', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-config-'));
    const file = join(dir, 'plugin-manager.yaml');
    await writeFile(file, SEED_EXAMPLE);
    assert.equal((await loadConfigFile(file)).max_plugins, 1000);
    await rejectsWithCode(loadConfigFile(join(dir, 'absent.yaml')), 'FO_CONFIG_NOT_FOUND');
  });

  it('refuses configuration files over 1 MiB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-config-'));
    const file = join(dir, 'big.yaml');
    await writeFile(file, `# ${'x'.repeat(1024 * 1024)}\n`);
    await rejectsWithCode(loadConfigFile(file), 'FO_CONFIG_TOO_LARGE');
  });
});

describe('configuration: the daemon and its listeners', () => {
  it('keeps every listener on the loopback interface (no TLS is spoken) or off', () => {
    const config = parseConfig('plugin_manager:\n  daemon:\n    listen: 127.0.0.1:7420\n  telemetry:\n    prometheus_listen: off\n', source);
    assert.equal(config.daemon.listen, '127.0.0.1:7420');
    assert.equal(config.telemetry.prometheus_listen, 'off');
    for (const bad of ['0.0.0.0:7420', '192.168.1.5:80', 'example.com:443', '127.0.0.1:00', '127.0.0.1:70000', '127.0.0.1', ':7420', '[::]:80']) {
      const issues = issuesOf(`plugin_manager:\n  daemon:\n    listen: "${bad}"\n`);
      assert.deepEqual(
        issues.map((issue) => [issue.path, issue.expected]),
        [['plugin_manager.daemon.listen', 'off, or HOST:PORT on the loopback interface (127.0.0.1:PORT, [::1]:PORT, localhost:PORT)']],
        bad,
      );
    }
    for (const good of ['localhost:1', '[::1]:65535', '127.1.2.3:80', '127.0.0.1:0']) assert.equal(parseConfig(`plugin_manager:\n  daemon:\n    listen: "${good}"\n`, source).daemon.listen, good);
  });

  it('takes the socket and the database from the configuration file\'s directory', () => {
    const config = parseConfig('plugin_manager:\n  daemon:\n    socket: run/forge.sock\n    database: db/daemon.db\n', source);
    assert.equal(config.daemon.socket, join(source.baseDir, 'run', 'forge.sock'));
    assert.equal(config.daemon.database, join(source.baseDir, 'db', 'daemon.db'));
  });
});

describe('configuration: policy', () => {
  it('reads grants, Cedar and anomaly settings, resolving host paths against the file', () => {
    const config = parseConfig(
      `plugin_manager:
  policy:
    cedar: policies/ops.cedar
    grants:
      notes:
        hosts: ["api.example.com"]
        volumes:
          data: { host: data/notes, mode: rw }
        config:
          greeting: hello
    anomaly:
      action: quarantine
`,
      source,
    );
    assert.equal(config.policy.cedar, '/etc/forgeone/policies/ops.cedar');
    assert.equal(config.policy.cedar_mode, 'forbid-only');
    assert.deepEqual(config.policy.grants['notes'], {
      publisher: '*',
      hosts: ['api.example.com'],
      volumes: { data: { host: '/etc/forgeone/data/notes', mode: 'rw' } },
      config: { greeting: 'hello' },
    });
    assert.equal(config.policy.anomaly.action, 'quarantine');
    assert.equal(config.policy.anomaly.denial_window, 10_000);
  });

  it('scopes a grant to the publisher it names, shows "*" (any publisher) where it names none, and refuses a malformed publisher', () => {
    const config = parseConfig('plugin_manager:\n  policy:\n    grants:\n      wallet:\n        publisher: "Acme Corp <ops@acme.example>"\n      notes: {}\n', source);
    assert.equal(config.policy.grants['wallet']?.publisher, 'Acme Corp <ops@acme.example>');
    assert.equal(config.policy.grants['notes']?.publisher, '*');
    const shown = configToDocument(config) as { plugin_manager: { policy: { grants: Record<string, { publisher: string }> } } };
    assert.equal(shown.plugin_manager.policy.grants['notes']?.publisher, '*', 'forge config check shows who a grant applies to');
    const issues = issuesOf('plugin_manager:\n  policy:\n    grants:\n      a:\n        publisher: ""\n      b:\n        publisher: "evil\\u001b[2J"\n      c:\n        publisher: 7\n');
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['plugin_manager.policy.grants.a.publisher', 'plugin_manager.policy.grants.b.publisher', 'plugin_manager.policy.grants.c.publisher'],
    );
  });

  it('refuses a volume mapping without a host directory and a malformed host', () => {
    const issues = issuesOf('plugin_manager:\n  policy:\n    grants:\n      notes:\n        hosts: ["http://x"]\n        volumes:\n          data: { mode: rw }\n');
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['plugin_manager.policy.grants.notes.hosts[0]', 'plugin_manager.policy.grants.notes.volumes.data.host'],
    );
  });
});

describe('security.namespace_isolation means what it says', () => {
  it('defaults to every plugin confined: runtime.backend auto with namespace_isolation true', () => {
    const config = parseConfig('plugin_manager: {}\n', source);
    assert.deepEqual([config.runtime.backend, config.security.namespace_isolation, config.runtime.process.group_by, config.runtime.process.warm], ['auto', true, 'plugin', 1]);
  });

  it('refuses a backend that runs plugins in the host process while namespace_isolation is true, and the process backend without it', () => {
    for (const backend of ['inline', 'pool']) {
      const issues = issuesOf(`plugin_manager:\n  runtime:\n    backend: ${backend}\n`);
      assert.deepEqual(
        issues.map((issue) => [issue.path, issue.found, issue.line]),
        [['plugin_manager.runtime.backend', JSON.stringify(backend), 3]],
      );
      assert.match(issues[0]?.expected ?? '', /namespace_isolation/);
    }
    const issues = issuesOf('plugin_manager:\n  security:\n    namespace_isolation: false\n  runtime:\n    backend: process\n');
    assert.deepEqual(issues.map((issue) => [issue.path, issue.found]), [['plugin_manager.security.namespace_isolation', 'false']]);
  });

  it('takes inline and pool once namespace_isolation is false', () => {
    const config = parseConfig('plugin_manager:\n  security:\n    namespace_isolation: false\n  runtime:\n    backend: pool\n', source);
    assert.equal(config.runtime.backend, 'pool');
  });
});
