// The two worlds scripts/spec-suite.mjs replays a .wast file in: one instantiates each
// module as the suite wrote it, the other the same module after ForgeOne instrumented it.
// Each world has its own spectest module, its own registered instances and its own
// named modules, so the instrumented modules only ever link with instrumented modules.
// Values cross the JS boundary the same way in both, and an outcome (results or the
// error thrown) is reduced to a string so the two can be compared exactly.

/** A memory and a table per world, as the spec interpreter's `spectest` module has them. */
export function spectest() {
  const print = () => {};
  return {
    print,
    print_i32: print,
    print_i64: print,
    print_f32: print,
    print_f64: print,
    print_i32_f32: print,
    print_f64_f64: print,
    global_i32: new WebAssembly.Global({ value: 'i32' }, 666),
    global_i64: new WebAssembly.Global({ value: 'i64' }, 666n),
    global_f32: new WebAssembly.Global({ value: 'f32' }, 666.6),
    global_f64: new WebAssembly.Global({ value: 'f64' }, 666.6),
    table: new WebAssembly.Table({ initial: 10, maximum: 20, element: 'anyfunc' }),
    memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }),
  };
}

/** One world: its registry (name -> exports) and its modules (by $name, and the last one). */
export class World {
  constructor() {
    this.registry = { spectest: spectest() };
    this.named = new Map();
    this.current = undefined;
  }

  /** Instantiates `bytes` against the registry; returns the instance (throws as the engine does). */
  instantiate(bytes) {
    const module = new WebAssembly.Module(bytes);
    const imports = {};
    for (const { module: from, name } of WebAssembly.Module.imports(module)) {
      const exports = this.registry[from];
      if (exports === undefined || !(name in exports)) continue;
      imports[from] ??= {};
      imports[from][name] = exports[name];
    }
    return new WebAssembly.Instance(module, imports);
  }

  /** Records an instance as the current module (and under its $name). */
  add(instance, name) {
    this.current = instance;
    if (name !== undefined) this.named.set(name, instance);
  }

  /** The instance an action names (or the current one); undefined when it never instantiated. */
  target(name) {
    return name === undefined ? this.current : this.named.get(name);
  }

  /** `(register "as" $name)`. */
  register(as, name) {
    const instance = this.target(name);
    if (instance !== undefined) this.registry[as] = instance.exports;
  }
}

const externs = new Map();

/** A stand-in object for `ref.extern N`, the same object for the same N in both worlds. */
function externRef(n) {
  if (!externs.has(n)) externs.set(n, { externref: n });
  return externs.get(n);
}

/** A wast2json argument as a JS value; v128 has none (the call then throws a TypeError in both worlds). */
export function toJs(arg) {
  const { type, value } = arg;
  switch (type) {
    case 'i32':
      return Number(value) | 0;
    case 'i64':
      return BigInt.asIntN(64, BigInt(value));
    case 'f32':
      return new Float32Array(Uint32Array.of(Number(value)).buffer)[0];
    case 'f64':
      return new Float64Array(BigUint64Array.of(BigInt(value)).buffer)[0];
    case 'externref':
      return value === 'null' ? null : externRef(value);
    case 'funcref':
      return null;
    default:
      return undefined;
  }
}

/** A result as a comparable string (-0 and NaN kept apart from 0 and from each other's types). */
export function describe(value) {
  if (typeof value === 'number') return Object.is(value, -0) ? 'number:-0' : `number:${value}`;
  if (typeof value === 'bigint') return `bigint:${value}`;
  if (typeof value === 'function') return 'function';
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(',')}]`;
  if (typeof value === 'object' && 'externref' in value) return `extern:${value.externref}`;
  return typeof value;
}

/** Runs an action (invoke or get) on an instance; returns the outcome as a string. */
export function perform(instance, action) {
  if (instance === undefined) return 'no instance';
  try {
    const target = instance.exports[action.field];
    if (action.type === 'get') return `ok ${describe(target?.value)}`;
    return `ok ${describe(target(...action.args.map(toJs)))}`;
  } catch (error) {
    return outcomeOf(error);
  }
}

/** An engine error as a comparable string: its class and message. */
export function outcomeOf(error) {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  return `thrown ${String(error)}`;
}
