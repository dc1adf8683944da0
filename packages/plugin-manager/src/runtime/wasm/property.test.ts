import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { engine } from './engine.js';
import { FuelMeter } from './fuel-meter.js';
import { instrumentModule } from './instrument.js';
import { generateModule } from './test-support/generator.js';
import { fn, instantiate } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

/** Seeds to try; FORGE_PROPERTY_SEEDS=N widens the search locally. */
const SEEDS = Number(process.env['FORGE_PROPERTY_SEEDS'] ?? 100);
const INPUTS = [0, 7, -1, 123_456];
const AMPLE = 10n ** 15n;

describe('property: generated modules', () => {
  it(`round-trip byte for byte, validate after instrumentation, compute what the originals compute and run out of fuel deterministically (${SEEDS} seeds)`, async () => {
    for (let seed = 1; seed <= SEEDS; seed += 1) {
      const where = `seed ${seed}`;
      const bytes = await wat(generateModule(seed));
      assert.deepEqual(encodeModule(decodeModule(bytes).module), bytes, `${where}: decode then encode is the identity`);

      const instrumented = instrumentModule(bytes, { fuel: true });
      assert.ok(engine.validate(instrumented.bytes), `${where}: the instrumented module is valid`);
      const module = await engine.compile(instrumented.bytes);
      for (const input of INPUTS) {
        // A fresh instance each time: main changes memory and globals.
        const expected = fn(await instantiate(bytes), 'main')(input);
        const instance = await engine.instantiate(module);
        const meter = FuelMeter.of(instance);
        const { value, used } = meter.run(AMPLE, () => fn(instance, 'main')(input));
        assert.equal(value, expected, `${where}, input ${input}: same result with ample fuel`);
        assert.ok(used > 0n, `${where}: some fuel was used`);

        const exact = await engine.instantiate(module);
        assert.deepEqual(FuelMeter.of(exact).run(used, () => fn(exact, 'main')(input)), { value: expected, used }, `${where}, input ${input}: the same fuel again suffices`);
        const short = await engine.instantiate(module);
        assert.throws(() => FuelMeter.of(short).run(used - 1n, () => fn(short, 'main')(input)), hasCode('FO_SANDBOX_CPU_LIMIT'), `${where}: one unit less runs out`);
        const little = await engine.instantiate(module);
        assert.throws(() => FuelMeter.of(little).run(used / 3n, () => fn(little, 'main')(input)), hasCode('FO_SANDBOX_CPU_LIMIT'));
      }
    }
  });

  it('generates the same module from the same seed and different modules from different seeds', () => {
    assert.equal(generateModule(5), generateModule(5));
    assert.notEqual(generateModule(5), generateModule(6));
  });

  it('stay valid and equivalent under a memory cap that the module stays within', async () => {
    for (let seed = 100; seed < 110; seed += 1) {
      const bytes = await wat(generateModule(seed));
      const capped = instrumentModule(bytes, { fuel: true, maxMemoryBytes: 3 * 65536, maxTableElements: 64 });
      const instance = await instantiate(capped.bytes);
      const { value } = FuelMeter.of(instance).run(AMPLE, () => fn(instance, 'main')(3));
      assert.equal(value, fn(await instantiate(bytes), 'main')(3), `seed ${seed}`);
    }
  });
});
