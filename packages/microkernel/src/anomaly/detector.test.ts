import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnomalyDetector, type Anomaly } from './detector.js';

function detector(options = {}): { detector: AnomalyDetector; found: Anomaly[] } {
  const found: Anomaly[] = [];
  return { detector: new AnomalyDetector((anomaly) => found.push(anomaly), options), found };
}

describe('anomaly detection', () => {
  it('reports a burst of denials once per window', () => {
    const { detector: d, found } = detector({ denialBurst: 5, denialWindowMs: 1000, warmupMs: 1e9 });
    d.start('p', 0);
    for (let i = 0; i < 12; i += 1) d.observe('p', 'wasi_snapshot_preview1.path_open', false, 10 + i);
    assert.deepEqual(found.map((a) => a.kind), ['denial_burst']);
    assert.match(found[0]!.detail, /5 denied calls within 1s/);
    for (let i = 0; i < 5; i += 1) d.observe('p', 'wasi_snapshot_preview1.path_open', false, 2000 + i);
    assert.equal(found.length, 2);
  });

  it('does not count allowed calls as denials', () => {
    const { detector: d, found } = detector({ denialBurst: 3, warmupMs: 1e9 });
    d.start('p', 0);
    for (let i = 0; i < 100; i += 1) d.observe('p', 'forge.log', true, i);
    assert.equal(found.length, 0);
  });

  it('reports a rate spike above the baseline times k, after one window of history', () => {
    const { detector: d, found } = detector({ windowMs: 1000, spikeFactor: 10, minBaseline: 5, warmupMs: 1e9 });
    d.start('p', 0);
    for (let second = 0; second < 5; second += 1) for (let i = 0; i < 10; i += 1) d.observe('p', 'forge.kv_get', true, second * 1000 + i);
    assert.equal(found.length, 0, 'a steady rate is normal');
    for (let i = 0; i < 150; i += 1) d.observe('p', 'forge.kv_get', true, 5000 + i);
    assert.deepEqual(found.map((a) => a.kind), ['rate_spike']);
    assert.match(found[0]!.detail, /101 calls of forge\.kv_get in 1000ms against a baseline of 10\.0/);
  });

  it('lets the baseline decay across idle windows', () => {
    const { detector: d, found } = detector({ windowMs: 1000, spikeFactor: 2, minBaseline: 1, alpha: 0.5, warmupMs: 1e9 });
    d.start('p', 0);
    for (let i = 0; i < 40; i += 1) d.observe('p', 'forge.kv_get', true, i);
    for (let i = 0; i < 30; i += 1) d.observe('p', 'forge.kv_get', true, 10_000 + i);
    assert.deepEqual(found.map((a) => a.kind), ['rate_spike'], 'after 9 idle windows 30 calls are a spike over the decayed baseline');
  });

  it('reports the first use of a call only after warm-up', () => {
    const { detector: d, found } = detector({ warmupMs: 60_000 });
    d.start('p', 0);
    d.observe('p', 'forge.log', true, 1000);
    d.observe('p', 'forge.http_request', true, 61_000);
    d.observe('p', 'forge.http_request', true, 61_001);
    d.observe('p', 'forge.log', true, 61_002);
    assert.deepEqual(found.map((a) => [a.kind, a.call]), [['first_use', 'forge.http_request']]);
  });

  it('keeps plugins apart and forgets them', () => {
    const { detector: d, found } = detector({ denialBurst: 3, warmupMs: 1e9 });
    d.observe('a', 'x', false, 0);
    d.observe('b', 'x', false, 1);
    d.observe('a', 'x', false, 2);
    d.forget('a');
    d.observe('a', 'x', false, 3);
    assert.equal(found.length, 0);
  });

  it('starts a plugin afresh when it is started again, even in the middle of a run of one call', () => {
    const { detector: d, found } = detector({ warmupMs: 1000 });
    d.start('a', 0);
    d.observe('a', 'x', true, 2000);
    d.observe('a', 'x', true, 2001);
    assert.deepEqual(found.map((a) => a.kind), ['first_use']);
    // A new start forgets the call: its next use past the warm-up is a first use again.
    d.start('a', 0);
    d.observe('a', 'x', true, 2002);
    assert.deepEqual(found.map((a) => a.kind), ['first_use', 'first_use']);
  });
});
