import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Issue } from '@forgeone/common';
import { throwsCode } from '@forgeone/common/testing';
import { diffManifests, parseManifestJson, parsePluginToml, serializeManifest, validateManifest } from './index.js';

/** The plugin.toml example from the original project description, verbatim. */
const SEED_TOML = `# Example plugin.toml manifest
[plugin]
name = "example-plugin"
version = "1.0.0"
description = "Example plugin for ForgeOne"
author = "ForgeOne Team"
license = "MIT"

[dependencies]
common = "^1.0.0"
microkernel = "^1.0.0"

[permissions]
filesystem = ["read", "write"]
network = ["connect"]

[entry_points]
init = "plugin_init"
start = "plugin_start"
stop = "plugin_stop"
`;

/** The issues of the FO_MANIFEST_INVALID that `run` must throw. */
function issuesOf(run: () => unknown): Issue[] {
  return throwsCode(run, 'FO_MANIFEST_INVALID').details['issues'] as Issue[];
}

describe('plugin.toml', () => {
  it('parses the original example as is, filling defaults', () => {
    const manifest = parsePluginToml(SEED_TOML);
    assert.equal(manifest.name, 'example-plugin');
    assert.equal(manifest.version, '1.0.0');
    assert.equal(manifest.abi, 'forge/1');
    assert.equal(manifest.entry, 'plugin.wasm');
    assert.deepEqual(manifest.dependencies, { common: '^1.0.0', microkernel: '^1.0.0' });
    assert.deepEqual(manifest.permissions, { filesystem: ['read', 'write'], network: ['connect'], allowed_hosts: [], syscalls: [], volumes: [] });
    assert.deepEqual(manifest.entry_points, { init: 'plugin_init', start: 'plugin_start', stop: 'plugin_stop' });
    assert.deepEqual(manifest.limits, {});
  });

  it('reports every invalid field with its path and expectation in one error', () => {
    const issues = issuesOf(() =>
      parsePluginToml(`[plugin]
name = "Bad Name"
version = "v1.0"
abi = "forge/2"
colour = "red"

[dependencies]
other = "not a range"

[permissions]
network = ["listen"]
allowed_hosts = ["EXAMPLE.com"]
syscalls = ["env.abort"]

[entry_points]
init = "1init"
reload = "x"

[limits]
memory = "10TB"
timeout = 30
`),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [
        'plugin.colour',
        'plugin.name',
        'plugin.version',
        'plugin.abi',
        'dependencies.other',
        'permissions.network[0]',
        'permissions.allowed_hosts[0]',
        'permissions.syscalls[0]',
        'entry_points.reload',
        'entry_points.init',
        'limits.memory',
        'limits.timeout',
      ],
    );
    assert.match(issues[2]!.expected, /semantic version/);
    assert.equal(issues[2]!.found, '"v1.0"');
  });

  it('requires [plugin] with a name and a version', () => {
    assert.deepEqual(
      issuesOf(() => parsePluginToml('[permissions]\n')).map((issue) => issue.path),
      ['plugin'],
    );
    assert.deepEqual(
      issuesOf(() => parsePluginToml('[plugin]\ndescription = "x"\n')).map((issue) => issue.path),
      ['plugin.name', 'plugin.version'],
    );
  });

  it('refuses a rw volume without the write permission, at the volume\'s path', () => {
    const issues = issuesOf(() =>
      parsePluginToml(`[plugin]
name = "v"
version = "1.0.0"
[permissions]
filesystem = ["read"]
volumes = [{ name = "data", path = "/data", mode = "rw" }]
`),
    );
    assert.deepEqual(issues.map((issue) => issue.path), ['permissions.volumes[0].mode']);
  });

  it('refuses TOML dates and other non-JSON values', () => {
    const issues = issuesOf(() => parsePluginToml('[plugin]\nname = "d"\nversion = "1.0.0"\ndescription = 1979-05-27\n'));
    assert.match(issues[0]!.found, /^a date/);
  });

  it('reports TOML syntax errors with line and column', () => {
    assert.match(throwsCode(() => parsePluginToml('[plugin]\nname = "x\n'), 'FO_MANIFEST_SYNTAX').message, /^plugin\.toml:2:\d+: not valid TOML/);
  });
});

describe('manifest.json', () => {
  it('is canonical: same manifest, same bytes, whatever the source spelling', () => {
    const fromToml = parsePluginToml(`${SEED_TOML}\n[limits]\nmemory = "64MB"\ntimeout = "1500ms"\n`);
    const text = serializeManifest(fromToml);
    assert.ok(text.startsWith('{"abi":"forge/1","author":"ForgeOne Team","dependencies":{"common":"^1.0.0"'));
    assert.ok(text.includes('"limits":{"memory":"64MiB","timeout":"1500ms"}'));
    const reparsed = parseManifestJson(text);
    assert.deepEqual(reparsed, fromToml);
    assert.equal(serializeManifest(reparsed), text);
  });

  it('rejects unknown top-level fields instead of ignoring them', () => {
    const issues = issuesOf(() => validateManifest({ name: 'a', version: '1.0.0', plugin: {} }));
    assert.deepEqual(issues.map((issue) => issue.path), ['plugin']);
  });

  it('reports JSON syntax errors as FO_MANIFEST_SYNTAX', () => {
    throwsCode(() => parseManifestJson('{"name":'), 'FO_MANIFEST_SYNTAX');
  });

  it('lists the differences between two manifests by path', () => {
    const a = parsePluginToml(SEED_TOML);
    const b = { ...a, version: '1.0.1', permissions: { ...a.permissions, network: [] } };
    assert.deepEqual(diffManifests(a, b), [
      { path: 'permissions.network', left: '["connect"]', right: '[]' },
      { path: 'version', left: '"1.0.0"', right: '"1.0.1"' },
    ]);
    assert.deepEqual(diffManifests(a, parseManifestJson(serializeManifest(a))), []);
  });
});
