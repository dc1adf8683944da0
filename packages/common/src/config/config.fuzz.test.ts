/**
 * Fuzz: plugin-manager.yaml parsing. Arbitrary text and mutations of a valid file either
 * load or fail with FO_CONFIG_SYNTAX / FO_CONFIG_INVALID, never another exception, and a
 * loaded configuration's paths are all absolute (relative ones resolved from the file's
 * directory), and written back as YAML (configToDocument) it loads as the same
 * configuration. Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { isAbsolute } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ForgeError } from '../errors/index.js';
import { runFuzz } from '../testing/fuzz.js';
import { configToDocument, parseConfig } from './load.js';

const VALID = `plugin_manager:
  plugin_directory: "plugins"
  temp_directory: "/tmp/forgeone/plugins"
  max_plugins: 1000
  default_timeout: 30s
  sandbox:
    memory_limit: 512MB
    cpu_limit: 2
    file_descriptor_limit: 1024
    network_access: restricted
  telemetry:
    log_level: info
  security:
    verify_signatures: true
    namespace_isolation: true
  policy:
    grants:
      acme/x:
        volumes:
          data: { host: "../data", mode: ro }
`;

const source = { name: 'plugin-manager.yaml', baseDir: '/etc/forgeone' };
const ALLOWED = new Set(['FO_CONFIG_SYNTAX', 'FO_CONFIG_INVALID']);

/** Loads `text`; a ForgeError of an allowed code is a refusal, anything else fails the property. */
function loadOrRefuse(text: string): void {
  let config;
  try {
    config = parseConfig(text, source);
  } catch (error) {
    if (!(error instanceof ForgeError)) throw new Error(`threw ${String(error)} (not a ForgeError)`, { cause: error });
    assert.ok(ALLOWED.has(error.code), `unexpected code ${error.code}: ${error.message}`);
    return;
  }
  for (const path of [config.plugin_directory, config.temp_directory, config.audit.path, config.daemon.socket]) {
    assert.ok(isAbsolute(path), `a loaded path stayed relative: ${path}`);
  }
  // What `forge config check` writes back loads as the same configuration.
  const written = stringify(configToDocument(config));
  assert.deepEqual(parseConfig(written, source), config, `written back as:\n${written}`);
}

/** Mutations of a text: replace, insert or delete one character, or splice a YAML-ish token in. */
const TOKENS = ['\n', ':', ' ', '  ', '-', '[', ']', '{', '}', '*a', '&a ', '!!', '"', "'", '#', '? ', '|', '>', '0x', '1e999', 'null', '~', '..', '%YAML 1.1\n'];
function mutated(base: string): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat({ max: base.length }),
    remove: fc.nat({ max: 4 }),
    insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 }), fc.constant('')),
  });
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) =>
    edits.reduce((text, { at, remove, insert }) => text.slice(0, Math.min(at, text.length)) + insert + text.slice(Math.min(at, text.length) + remove), base),
  );
}

describe('config fuzz: parseConfig loads or refuses with a config code', () => {
  it('the unmutated file loads', () => {
    assert.equal(parseConfig(VALID, source).max_plugins, 1000);
  });

  it('arbitrary text', async () => {
    await runFuzz('config.fuzz', 300, (settings) => fc.check(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), loadOrRefuse), settings), (details) => fc.defaultReportMessage(details));
  });

  it('mutations of a valid file', async () => {
    await runFuzz('config.fuzz', 400, (settings) => fc.check(fc.property(mutated(VALID), loadOrRefuse), settings), (details) => fc.defaultReportMessage(details));
  });

  it('alias bombs are refused, never expanded', async () => {
    const bomb = fc.integer({ min: 2, max: 12 }).map((levels) => {
      const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
      for (let level = 1; level < levels; level += 1) lines.push(`a${level}: &a${level} [${Array(10).fill(`*a${level - 1}`).join(', ')}]`);
      return `${lines.join('\n')}\nplugin_manager: *a${levels - 1}\n`;
    });
    await runFuzz('config.fuzz', 20, (settings) => fc.check(fc.property(bomb, (text) => {
      assert.throws(() => parseConfig(text, source), (error: unknown) => error instanceof ForgeError && ALLOWED.has(error.code));
    }), settings), (details) => fc.defaultReportMessage(details));
  });
});
