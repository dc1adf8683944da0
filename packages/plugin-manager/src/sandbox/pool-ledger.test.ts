import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendAuditEntry } from './plugin-gate.js';
import { AUDIT_MIRROR_BYTES } from './pool-audit-mirror.js';
import { LEDGER_BYTES, LedgerReader, allocateLedger, openLedger } from './pool-ledger.js';
import type { TelemetryItem, ToHost } from './pool-protocol.js';
import { WorkerOutbox } from './pool-worker-outbox.js';

const entry = (n: number, extra: Partial<BackendAuditEntry> = {}): BackendAuditEntry => ({ plugin: 'p', action: 'forge.kv_get', resource: `kv:${n}`, allowed: true, reason: 'granted', ...extra });
const item = (n: number): Extract<TelemetryItem, { kind: 'audit' }> => ({ kind: 'audit', plugin: 'p', entry: entry(n) });

/** An outbox over a fresh ledger, recording the batch numbers it posts. */
function mirrored(): { box: WorkerOutbox; reader: LedgerReader; buffer: SharedArrayBuffer; posted: { items: number; batch: number | undefined }[] } {
  const buffer = allocateLedger();
  const posted: { items: number; batch: number | undefined }[] = [];
  const port = { postMessage: (message: ToHost) => void (message.type === 'telemetry' && posted.push({ items: message.items.length, batch: message.batch })) };
  return { box: new WorkerOutbox(port, undefined, openLedger(buffer)), reader: new LedgerReader(buffer), buffer, posted };
}

/** A ledger where the plugin at `index` folds a call: key 0 (forge.kv_get of `resource`) named and counted once. */
function folding(index: number, resource: string) {
  const buffer = allocateLedger();
  const writer = openLedger(buffer).tally;
  const slot = writer.open(index);
  writer.name(slot, 0, 'forge.kv_get', resource);
  writer.count(slot, 0);
  return { buffer, writer, reader: new LedgerReader(buffer), slot };
}

describe('the ledger: what a killed worker had queued and counted, read back by its host', () => {
  it('holds each queued audit record, exactly, until its batch is posted; then the host takes nothing of a batch it received', () => {
    const { box, reader, posted } = mirrored();
    box.queueAudit(3, item(1));
    box.queueAudit(3, { kind: 'audit', plugin: 'p', entry: entry(2, { resource: undefined, requested: 'kv:\u{1F600}\ud800', reason: 'r\u0000é' }) });
    assert.deepEqual(reader.unposted(0), [
      { index: 3, entry: { action: 'forge.kv_get', resource: 'kv:1', allowed: true, reason: 'granted' } },
      { index: 3, entry: { action: 'forge.kv_get', resource: undefined, allowed: true, reason: 'r\u0000é', requested: 'kv:\u{1F600}\ufffd' } },
    ]);
    box.flush();
    assert.deepEqual(posted, [{ items: 2, batch: 1 }]);
    assert.deepEqual(reader.unposted(0), [], 'the next batch is empty');
    box.queueAudit(3, item(3));
    assert.equal(reader.unposted(2).length, 0, 'a batch the host received is not taken again');
    assert.equal(reader.unposted(1).length, 1, 'batch 2 was not received');
  });

  it('writes a record repeating the one before as its flags alone, and refuses such a record with nothing before it in the batch', () => {
    const { box, reader, buffer } = mirrored();
    box.queueAudit(1, item(1));
    box.queueAudit(2, item(1));
    box.queueAudit(2, item(2));
    box.queueAudit(1, item(2));
    const words = new Int32Array(buffer);
    assert.equal(words[4 + (words[4] ?? 0) / 4], 32, 'the repeat is its header alone');
    assert.deepEqual(
      reader.unposted(0).map(({ index, entry: { resource } }) => [index, resource]),
      [
        [1, 'kv:1'],
        [2, 'kv:1'],
        [2, 'kv:2'],
        [1, 'kv:2'],
      ],
    );
    words[6] = (words[6] ?? 0) | 8; // the first record claims to repeat a record before it
    assert.deepEqual(reader.unposted(0), []);
  });

  it('posts the batch early when the mirror is full, and a record with data at once, so none is in neither place', () => {
    const { box, reader, posted } = mirrored();
    const long = 'x'.repeat(4000);
    let queued = 0;
    while (posted.length === 0) box.queueAudit(1, { kind: 'audit', plugin: 'p', entry: entry((queued += 1), { reason: long }) });
    assert.ok(queued > 1 && queued * 4000 > AUDIT_MIRROR_BYTES - 4000, `${queued} records before the mirror filled`);
    assert.equal(posted[0]?.items, queued - 1, 'the batch left before the record that did not fit');
    assert.equal(reader.unposted(posted[0]?.batch ?? 0).length, 1, 'which the next batch mirrors');
    box.queueAudit(1, { kind: 'audit', plugin: 'p', entry: entry(0, { reason: 'y'.repeat(AUDIT_MIRROR_BYTES) }) });
    assert.deepEqual(
      posted.slice(-2).map((post) => post.items),
      [1, 1],
      'larger than the mirror: the batch leaves, then the record at once',
    );
    box.queueAudit(1, { kind: 'audit', plugin: 'p', entry: { ...entry(0), action: 'audit.folded', data: { folded: 1 } } });
    assert.equal(posted.at(-1)?.items, 1, 'a summary is posted at once');
  });

  it('parses the mirror as untrusted: a record claiming more than was committed, or lengths that do not add up, ends the read', () => {
    const { box, reader, buffer } = mirrored();
    box.queueAudit(1, item(1));
    box.queueAudit(1, item(2));
    const words = new Int32Array(buffer);
    const header = 4; // the records start after the mirror's 16-byte header
    const second = header + (words[header] ?? 0) / 4;
    const saved = [...words.subarray(second, second + 8)];
    words[second] = 1 << 20; // total bytes past the committed length
    assert.equal(reader.unposted(0).length, 1);
    words.set(saved, second);
    words[second + 4] = 99; // the action's length no longer matches the text
    assert.equal(reader.unposted(0).length, 1);
    words.set(saved, second);
    words[second + 3] = -5; // negative text bytes
    assert.equal(reader.unposted(0).length, 1);
    words.set(saved, second);
    assert.equal(reader.unposted(0).length, 2);
    words[0] = LEDGER_BYTES; // a committed length beyond the mirror
    assert.deepEqual(reader.unposted(0), []);
  });

  it('keeps a folding call’s exact counts by key, with `other` for keys it could not name, and frees the slot when the call ends', () => {
    const { writer, reader, slot } = folding(7, 'kv:k');
    for (let i = 1; i < 37; i += 1) writer.count(slot, 0);
    writer.count(slot, 1); // a key never named
    writer.count(slot, -1);
    assert.deepEqual(reader.tally(7), { folded: 39, counts: [['forge.kv_get', 'kv:k', 37]], other: 2 });
    assert.equal(reader.tally(8), undefined, 'another plugin has no call folding');
    writer.close(slot);
    assert.equal(reader.tally(7), undefined);
    assert.equal(writer.open(9), slot, 'the freed slot is taken again');
  });

  it('parses the tally as untrusted: malformed key names are left out and their counts summed in other; negative counts are zero', () => {
    const { buffer, reader } = folding(2, 'kv:a');
    // What a compromised sandbox could write: a key out of range, a non-string action, garbage, a negative count.
    const view = new Int32Array(buffer);
    const names = new TextEncoder().encode('[0,"forge.kv_get","kv:a"]\n[40,"x",null]\n[1,7,null]\n{oops\n');
    const tallyAt = 16 + AUDIT_MIRROR_BYTES; // the tally follows the mirror and its header
    const textAt = tallyAt + 4 * 4 * 36; // after its four slots' words
    new Uint8Array(buffer).set(names, textAt);
    Atomics.store(view, tallyAt / 4 + 2, names.length);
    view[tallyAt / 4 + 4 + 1] = 5; // key 1: its name was malformed
    view[tallyAt / 4 + 4 + 2] = -9;
    assert.deepEqual(reader.tally(2), { folded: 6, counts: [['forge.kv_get', 'kv:a', 1]], other: 5 });
  });
});
