import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { CompileCache } from './compile-cache.js';
import { engine, type CompiledModule } from './engine.js';
import { fn } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

const answer = (n: number) => wat(`(module (func (export "answer") (result i32) (i32.const ${n})))`);

/** A compiler that counts its calls and resolves only when told to. */
function controlledCompiler(): { compile: (bytes: Uint8Array) => Promise<CompiledModule>; calls: number; release: () => void } {
  const waiting: (() => void)[] = [];
  const state = {
    calls: 0,
    compile: async (bytes: Uint8Array) => {
      state.calls += 1;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return engine.compile(bytes);
    },
    release: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
  return state;
}

describe('CompileCache', () => {
  it('compiles the same bytes once and hands back the same module', async () => {
    const cache = new CompileCache();
    const bytes = await answer(1);
    const first = await cache.compile(bytes);
    const second = await cache.compile(Uint8Array.from(bytes));
    assert.equal(first, second);
    assert.deepEqual(cache.stats, { hits: 1, misses: 1, failures: 0, evictions: 0, entries: 1, bytes: bytes.length });
    assert.ok(cache.has(CompileCache.digest(bytes)));
    assert.equal(CompileCache.digest(bytes), createHash('sha256').update(bytes).digest('hex'));
  });

  it('shares one compile between concurrent requests for the same bytes', async () => {
    const compiler = controlledCompiler();
    const cache = new CompileCache({ compile: compiler.compile });
    const bytes = await answer(2);
    const pending = [cache.compile(bytes), cache.compile(bytes), cache.compile(bytes)];
    compiler.release();
    const modules = await Promise.all(pending);
    assert.equal(compiler.calls, 1);
    assert.ok(modules.every((module) => module === modules[0]));
    assert.equal(cache.stats.hits, 2);
    assert.equal(cache.stats.misses, 1);
  });

  it('reports a refused module as FO_RUNTIME_COMPILE_FAILED and does not keep the failure', async () => {
    const cache = new CompileCache();
    const invalid = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x01]);
    const digest = CompileCache.digest(invalid);
    await assert.rejects(cache.compile(invalid), hasCode('FO_RUNTIME_COMPILE_FAILED', { digest: `sha256:${digest}` }));
    assert.equal(cache.has(digest), false);
    await assert.rejects(cache.compile(invalid), hasCode('FO_RUNTIME_COMPILE_FAILED'));
    assert.equal(cache.stats.misses, 2);
    assert.equal(cache.stats.failures, 2);
    assert.equal(cache.stats.entries, 0);
    assert.equal(cache.stats.bytes, 0);
  });

  it('reports a compiler that throws synchronously the same way', async () => {
    const cache = new CompileCache({
      compile: () => {
        throw new Error('boom');
      },
    });
    await assert.rejects(cache.compile(await answer(3)), hasCode('FO_RUNTIME_COMPILE_FAILED', { reason: 'boom' }));
    assert.equal(cache.stats.entries, 0);
  });

  it('evicts the least recently used entry past maxEntries', async () => {
    const cache = new CompileCache({ maxEntries: 2 });
    const [a, b, c] = await Promise.all([answer(10), answer(11), answer(12)]);
    await cache.compile(a);
    await cache.compile(b);
    await cache.compile(a); // a is now the most recently used
    await cache.compile(c);
    assert.equal(cache.has(CompileCache.digest(a)), true);
    assert.equal(cache.has(CompileCache.digest(b)), false);
    assert.equal(cache.has(CompileCache.digest(c)), true);
    assert.equal(cache.stats.evictions, 1);
  });

  it('evicts past maxBytes, and keeps nothing larger than it', async () => {
    const a = await answer(20);
    const cache = new CompileCache({ maxBytes: a.length * 2 });
    await cache.compile(a);
    await cache.compile(await answer(21));
    await cache.compile(await answer(22));
    assert.equal(cache.stats.entries, 2);
    assert.equal(cache.has(CompileCache.digest(a)), false);
    const tiny = new CompileCache({ maxBytes: 1 });
    const module = await tiny.compile(a);
    assert.equal(tiny.stats.entries, 0);
    const instance = await engine.instantiate(module);
    assert.equal(fn(instance, 'answer')(), 20, 'an evicted module still works');
  });

  it('compiles the bytes as they were when asked, even if the caller changes its buffer right after', async () => {
    const cache = new CompileCache();
    const bytes = await answer(30);
    const other = await answer(31);
    const pending = cache.compile(bytes);
    bytes.set(other);
    const instance = await engine.instantiate(await pending);
    assert.equal(fn(instance, 'answer')(), 30);
  });

  it('forgets entries on delete and clear', async () => {
    const cache = new CompileCache();
    const bytes = await answer(40);
    await cache.compile(bytes);
    assert.equal(cache.delete(CompileCache.digest(bytes)), true);
    assert.equal(cache.delete(CompileCache.digest(bytes)), false);
    await cache.compile(bytes);
    cache.clear();
    assert.deepEqual([cache.stats.entries, cache.stats.bytes, cache.stats.misses], [0, 0, 2]);
  });

  it('refuses malformed bounds as FO_LIMIT_INVALID', () => {
    assert.throws(() => new CompileCache({ maxEntries: -1 }), hasCode('FO_LIMIT_INVALID'));
    assert.throws(() => new CompileCache({ maxBytes: Infinity }), hasCode('FO_LIMIT_INVALID'));
  });
});
