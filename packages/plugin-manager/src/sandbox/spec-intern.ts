/**
 * One copy, per thread, of what plugins' specs have in common. A spec reaches a pool
 * worker as a structured clone: its ceiling, policy, WASI settings, host-call settings
 * and entry points arrive as fresh objects and strings for every plugin (about 1.5 KiB),
 * though thousands of plugins loaded from one manifest template carry the same data.
 *
 * SECURITY: a part is shared only between specs whose data is equal (a key that tells
 * apart every value, NaN and Infinity included), and the shared copy is deeply frozen,
 * so no plugin's host functions, gate or policy update can write into what another
 * plugin reads (a write throws instead). A plugin's identity, id and module are never
 * shared. Entries are held weakly: a part goes once the last spec using it is gone.
 */
import type { PluginSpec } from './spec.js';

/** The fields shared when equal: plain data, read only after the instance is built. */
const SHARED_FIELDS = ['ceiling', 'policy', 'wasi', 'hostCalls', 'entryPoints', 'anomaly', 'abiLimits'] as const;

/** Deep-freezes plain data (objects and arrays; no cycles: dataKey refused those). An object frozen already may still hold unfrozen ones. */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  for (const member of Object.values(value)) deepFreeze(member);
  Object.freeze(value);
}

/**
 * A key that equal plain data shares and different data never does (numbers and strings
 * tagged, so NaN, Infinity, 1 and "1" differ), or undefined for anything that is not
 * plain data (a bigint, a function, a class instance such as a typed array): not shared.
 */
export function dataKey(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, (_key, member: unknown) => {
      if (typeof member === 'number') return `n:${String(member)}`;
      if (typeof member === 'string') return `s:${member}`;
      if (typeof member === 'object' && member !== null && !Array.isArray(member)) {
        const prototype: unknown = Object.getPrototypeOf(member);
        if (prototype !== Object.prototype && prototype !== null) throw new TypeError('not plain data');
      }
      if (typeof member === 'function' || typeof member === 'symbol' || typeof member === 'bigint') throw new TypeError('not plain data');
      return member;
    });
  } catch {
    return undefined;
  }
}

/** Shares equal parts of the specs a thread receives. Not thread-safe (one per thread). */
export class SpecInterner {
  readonly #parts = new Map<string, WeakRef<object>>();
  readonly #gone = new FinalizationRegistry<string>((key) => {
    if (this.#parts.get(key)?.deref() === undefined) this.#parts.delete(key);
  });

  /** `spec` with its shareable parts replaced by the thread's copy of equal data (frozen). */
  intern(spec: PluginSpec): PluginSpec {
    const out: Record<string, unknown> = { ...spec };
    for (const field of SHARED_FIELDS) {
      const value: unknown = spec[field];
      if (typeof value === 'object' && value !== null) out[field] = this.#share(field, value);
    }
    return out as unknown as PluginSpec;
  }

  /** Parts held (for tests). */
  get size(): number {
    return this.#parts.size;
  }

  #share(field: string, value: object): object {
    const data = dataKey(value);
    if (data === undefined) return value;
    const key = `${field}\u0000${data}`;
    const known = this.#parts.get(key)?.deref();
    if (known !== undefined) return known;
    deepFreeze(value);
    this.#parts.set(key, new WeakRef(value));
    this.#gone.register(value, key);
    return value;
  }
}
