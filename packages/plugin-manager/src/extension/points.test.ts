import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { ExtensionPoints, invokeEach } from './points.js';

describe('ExtensionPoints', () => {
  it('lists the implementations of running plugins, declared before registered, in load order, once each', () => {
    const points = new ExtensionPoints();
    points.add('host-app', { offers: ['text.format'], implements: [] });
    points.add('upper', { offers: [], implements: [{ point: 'text.format', export: 'upper' }] });
    points.add('late', { offers: [], implements: [] });
    points.register('late', 'text.format', 'format');
    points.register('late', 'text.format', 'format');
    points.register('upper', 'text.format', 'again');
    const all = points.implementations('text.format', () => true).map((entry) => [entry.plugin, entry.export, entry.source]);
    assert.deepEqual(all, [
      ['upper', 'upper', 'manifest'],
      ['upper', 'again', 'runtime'],
      ['late', 'format', 'runtime'],
    ]);
    assert.deepEqual(points.implementations('text.format', (plugin) => plugin !== 'upper').map((entry) => entry.plugin), ['late']);
    points.remove('late');
    assert.deepEqual(points.implementations('text.format', () => true).map((entry) => entry.export), ['upper', 'again']);
  });

  it('refuses a registration for a point nobody offers, and a host point that is not a point name', () => {
    const points = new ExtensionPoints();
    points.add('p', { offers: [], implements: [] });
    assert.throws(() => points.register('p', 'nobody.offers', 'x'), (error: unknown) => ForgeError.is(error, 'FO_EXTENSION_UNKNOWN_POINT'));
    assert.throws(() => points.declareHostPoint('../Bad'), (error: unknown) => ForgeError.is(error, 'FO_ABI_BAD_REQUEST'));
    points.declareHostPoint('host.hook');
    points.register('p', 'host.hook', 'x');
    assert.deepEqual(points.hostPoints(), ['host.hook']);
    assert.deepEqual(points.implementations('host.hook', () => true).map((entry) => entry.plugin), ['p']);
  });

  it('invokes each implementation; one failing does not stop the others', async () => {
    const points = new ExtensionPoints();
    points.add('a', { offers: ['x'], implements: [{ point: 'x', export: 'go' }] });
    points.add('b', { offers: [], implements: [{ point: 'x', export: 'go' }] });
    const results = await invokeEach(points.implementations('x', () => true), new Uint8Array([1]), (plugin) =>
      plugin === 'a' ? Promise.reject(new ForgeError('FO_ABI_GUEST_TRAP', 'a trapped')) : Promise.resolve(new Uint8Array([2])),
    );
    assert.deepEqual(results.map((result) => [result.plugin, result.error?.code, result.output?.[0]]), [
      ['a', 'FO_ABI_GUEST_TRAP', undefined],
      ['b', undefined, 2],
    ]);
  });
});
