import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { repoFile } from './test-support/repo.js';
import { RecordingGate, load, recordingLogger, text, utf8 } from './test-support/harness.js';

/** The first ```wat block of docs/reference/abi.md: the complete example plugin. */
function referenceExample(): string {
  const doc = readFileSync(repoFile('docs/reference/abi.md'), 'utf8');
  const match = /```wat\n(\(module[\s\S]*?)```/.exec(doc);
  assert.ok(match?.[1] !== undefined, 'docs/reference/abi.md has a complete ```wat example');
  return match[1];
}

describe('the example plugin in docs/reference/abi.md', () => {
  it('greets, logs through forge.log and runs its init entry point', async () => {
    const { logger, records } = recordingLogger();
    const gate = new RecordingGate();
    const plugin = await load('reference-example', referenceExample(), { gate, logger });
    assert.equal(plugin.runLifecycle('init', { init: 'init' }), true);
    assert.equal(text(plugin.call('greet', utf8('world'))), 'hello, world');
    assert.deepEqual(
      records.filter((record) => record.fields['source'] === 'forge.log').map((record) => [record.level, record.message]),
      [['info', 'greet called']],
    );
    assert.deepEqual(gate.checks, [{ call: 'forge.log', resource: undefined }]);
  });

  it('returns its static error payload for an empty name', async () => {
    const plugin = await load('reference-example', referenceExample());
    assert.throws(() => plugin.call('greet', new Uint8Array(0)), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'E_EMPTY', guestMessage: 'name is empty' }));
  });

  it('still greets when policy denies logging', async () => {
    const gate = new RecordingGate(() => 'no logging');
    const plugin = await load('reference-example', referenceExample(), { gate });
    for (let i = 0; i < 100; i += 1) assert.equal(text(plugin.call('greet', utf8(`n${i}`))), `hello, n${i}`);
    assert.equal(gate.checks.length, 100);
  });

  it('round-trips a 1 MiB name, growing its memory', async () => {
    const plugin = await load('reference-example', referenceExample());
    const name = 'x'.repeat(1024 * 1024);
    assert.equal(text(plugin.call('greet', utf8(name))), `hello, ${name}`);
  });
});
