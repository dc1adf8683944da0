import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addRevocation, addVersion } from './index-edit.js';
import { emptyIndex } from './index-format.js';
import { searchIndex } from './search.js';
import { publication } from './test-support/repository.js';

function index() {
  let next = emptyIndex();
  next = addVersion(next, publication('kv', '1.0.0', { description: 'A key-value store for plugins', keywords: ['storage', 'database'] }));
  next = addVersion(next, publication('kv-backup', '0.1.0', { description: 'Backs up kv', keywords: ['backup'] }));
  next = addVersion(next, publication('logger', '2.0.0', { description: 'Writes logs to a kv store', keywords: ['logging'], publisher: 'Other Corp' }));
  next = addVersion(next, publication('metrics', '1.0.0', { description: 'Counts things', keywords: ['kvstats'] }));
  return next;
}

describe('searchIndex', () => {
  it('ranks an exact name above a name prefix, a keyword prefix and a description match', () => {
    assert.deepEqual(
      searchIndex(index(), 'kv').map((result) => [result.name, result.score]),
      [
        ['kv', 100],
        ['kv-backup', 60],
        ['metrics', 15],
        ['logger', 10],
      ],
    );
  });

  it('needs every word to match, case-insensitively, and adds their scores', () => {
    assert.deepEqual(searchIndex(index(), 'KV Storage').map((result) => [result.name, result.score]), [['kv', 130]]);
    assert.deepEqual(searchIndex(index(), 'kv nothing-matches'), []);
    assert.deepEqual(searchIndex(index(), 'other').map((result) => result.name), ['logger']);
  });

  it('lists everything by name for an empty query', () => {
    assert.deepEqual(searchIndex(index(), '  ').map((result) => result.name), ['kv', 'kv-backup', 'logger', 'metrics']);
  });

  it('offers the highest version that is not revoked, and marks a plugin whose every version is revoked', () => {
    let next = addVersion(index(), publication('kv', '1.1.0'));
    next = addRevocation(next, { plugin: 'kv', version: '1.1.0', reason: 'broken', date: '2026-01-02T00:00:00Z' });
    const [kv] = searchIndex(next, 'kv');
    assert.deepEqual([kv?.latest?.version, kv?.versions, kv?.revoked], ['1.0.0', ['1.1.0', '1.0.0'], undefined]);
    next = addRevocation(next, { publisher: 'ACME Plugins', reason: 'key stolen', date: '2026-01-03T00:00:00Z' });
    const [again] = searchIndex(next, 'kv');
    assert.equal(again?.latest?.version, '1.1.0');
    assert.equal(again?.revoked?.reason, 'broken');
    assert.equal(searchIndex(next, 'logger')[0]?.revoked, undefined, 'another publisher is not covered');
  });
});
