import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throwsCode } from '@forgeone/common/testing';
import { resolveDependencies, startOrder, type Candidate } from './resolver.js';

function universe(...candidates: [string, string, Record<string, string>?][]) {
  const all: Candidate[] = candidates.map(([name, version, dependencies = {}]) => ({ name, version, dependencies }));
  return (name: string) => all.filter((candidate) => candidate.name === name);
}

const order = (resolution: { order: readonly Candidate[] }) => resolution.order.map((c) => `${c.name}@${c.version}`);

describe('dependency resolution', () => {
  it('picks the newest versions that satisfy every range and orders dependencies first', () => {
    const source = universe(['app', '1.0.0', { db: '^2.0.0', log: '^1.0.0' }], ['db', '2.1.0', { log: '^1.2.0' }], ['db', '2.4.0', { log: '^1.2.0' }], ['db', '3.0.0'], ['log', '1.1.0'], ['log', '1.3.0']);
    assert.deepEqual(order(resolveDependencies({ app: '^1.0.0' }, source)), ['log@1.3.0', 'db@2.4.0', 'app@1.0.0']);
  });

  it('backtracks to an older version when the newest one conflicts', () => {
    const source = universe(['app', '1.0.0', { db: '*', log: '1.0.0' }], ['db', '2.0.0', { log: '^2.0.0' }], ['db', '1.0.0', { log: '^1.0.0' }], ['log', '1.0.0'], ['log', '2.0.0']);
    assert.deepEqual(order(resolveDependencies({ app: '1.0.0' }, source)), ['log@1.0.0', 'db@1.0.0', 'app@1.0.0']);
  });

  it('explains a conflict as a derivation', () => {
    const source = universe(['a', '1.2.0', { b: '^2.0.0' }], ['c', '1.0.0', { b: '^1.0.0' }], ['b', '1.4.0'], ['b', '2.1.0']);
    const message = throwsCode(() => resolveDependencies({ a: '1.2.0', c: '1.0.0' }, source), 'FO_DEPS_CONFLICT').message;
    assert.match(message, /^(a 1\.2\.0 needs b \^2\.0\.0, but c 1\.0\.0 needs b \^1\.0\.0|c 1\.0\.0 needs b \^1\.0\.0, but a 1\.2\.0 needs b \^2\.0\.0)/);
  });

  it('says what exists when no version fits', () => {
    const message = throwsCode(() => resolveDependencies({ a: '1.0.0' }, universe(['a', '1.0.0', { b: '^3.0.0' }], ['b', '1.0.0'], ['b', '2.0.0'])), 'FO_DEPS_MISSING').message;
    assert.equal(message, 'a 1.0.0 needs b ^3.0.0, but the available versions are 2.0.0, 1.0.0');
    const none = throwsCode(() => resolveDependencies({ a: '1.0.0' }, universe(['a', '1.0.0', { ghost: '^1.0.0' }])), 'FO_DEPS_MISSING').message;
    assert.equal(none, 'a 1.0.0 needs ghost ^1.0.0, but no version of ghost is available');
  });

  it('reports a cycle with its path', () => {
    const source = universe(['a', '1.0.0', { b: '1.0.0' }], ['b', '1.0.0', { c: '1.0.0' }], ['c', '1.0.0', { a: '1.0.0' }]);
    const message = throwsCode(() => resolveDependencies({ a: '1.0.0' }, source), 'FO_DEPS_CYCLE').message;
    assert.equal(message, 'plugins depend on each other in a cycle: a -> b -> c -> a');
  });

  it('gives up with FO_DEPS_TOO_COMPLEX instead of searching forever', () => {
    const versions: [string, string, Record<string, string>?][] = [['root', '1.0.0', { x: '*', y: '*' }]];
    for (let i = 0; i < 50; i += 1) versions.push(['x', `1.0.${i}`, { z: '1.0.0' }], ['y', `1.0.${i}`, { z: '2.0.0' }]);
    versions.push(['z', '1.0.0'], ['z', '2.0.0']);
    throwsCode(() => resolveDependencies({ root: '1.0.0' }, universe(...versions), { maxSteps: 200 }), 'FO_DEPS_TOO_COMPLEX');
  });

  it('orders independent plugins by name, deterministically', () => {
    const plugins = ['c', 'a', 'b'].map((name) => ({ name, version: '1.0.0', dependencies: {} }));
    assert.deepEqual(startOrder(plugins).map((p) => p.name), ['a', 'b', 'c']);
  });
});
