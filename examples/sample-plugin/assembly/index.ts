// The ForgeOne sample plugin, in AssemblyScript with @forgeone/pdk (packages/pdk).
// `node examples/sample-plugin/build.mjs` compiles it into plugin.wasm; plugin.toml says
// what it may do. greet needs nothing; each other call needs what plugin.toml declares
// and, for the network, the operator's grant of the host.
import { Input, Level, Output, call, configGet, forge_alloc, forge_free, httpGet, kvGet, kvSet, lifecycle, log, registerExtension, text, utf8 } from '@forgeone/pdk';
export { forge_alloc, forge_free };

// ---- Lifecycle: each step records where the plugin is; none calls the host, so a plugin
// the operator granted nothing starts and stops quietly.

/** 0 created, 1 initialised, 2 running, 3 stopped, 4 paused, 5 unloaded. */
let stage: i32 = 0;

export function plugin_init(): i32 {
  return lifecycle((): i32 => {
    stage = 1;
    return 0;
  });
}
export function plugin_start(): i32 {
  return lifecycle((): i32 => {
    stage = 2;
    return 0;
  });
}
export function plugin_stop(): i32 {
  return lifecycle((): i32 => {
    stage = 3;
    return 0;
  });
}
export function plugin_pause(): i32 {
  return lifecycle((): i32 => {
    stage = 4;
    return 0;
  });
}
export function plugin_resume(): i32 {
  return lifecycle((): i32 => {
    stage = 2;
    return 0;
  });
}
export function plugin_unload(): i32 {
  return lifecycle((): i32 => {
    stage = 5;
    return 0;
  });
}

// ---- Calls

/** greet(name) -> "Hello, <name>!". Pure: no host call, no permission. */
export function greet(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => Output.text('Hello, ' + input.text() + '!'));
}

/** The lifecycle stage, as decimal text ("2" while running). */
export function state(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => Output.text(stage.toString()));
}

/** greet in capitals: the implementation `extend` registers at run time. */
export function shout(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => Output.text(('Hello, ' + input.text() + '!').toUpperCase()));
}

/**
 * welcome(name) -> "<greeting>, <name>!" with the operator's config value `greeting`
 * (forge.config_get, no permission), "Welcome" when the operator set none.
 */
export function welcome(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const value = configGet('greeting');
    if (!value.ok && !value.is('FO_SYSCALL_CONFIG_NOT_FOUND')) return Output.status(value);
    return Output.text((value.ok ? value.text() : 'Welcome') + ', ' + input.text() + '!');
  });
}

/** count() -> how many times it was called, kept in the key-value store (forge.kv_get, kv_set). */
export function count(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const stored = kvGet('count');
    if (!stored.ok && !stored.is('FO_SYSCALL_KV_NOT_FOUND')) return Output.status(stored);
    const next = (stored.ok ? I64.parseInt(stored.text()) : 0) + 1;
    const saved = kvSet('count', utf8(next.toString()));
    if (!saved.ok) return Output.status(saved);
    return Output.text(next.toString());
  });
}

/** note(text): one info record in the host's log for this plugin (forge.log, no permission). */
export function note(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const logged = log(Level.Info, input.text());
    return logged.ok ? Output.empty() : Output.status(logged);
  });
}

/**
 * fetch(url) -> "<status> <body>" of a GET (forge.http_request): the host must be in
 * allowed_hosts and granted by the operator; a refusal comes back with the host's code.
 */
export function fetch(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const response = httpGet(input.text());
    if (!response.ok) return Output.status(response);
    return Output.text(response.status.toString() + ' ' + text(response.body));
  });
}

/**
 * extend(point): registers `shout` as an implementation of extension point `point`
 * (forge.register_extension, no permission); FO_EXTENSION_UNKNOWN_POINT when nobody
 * offers it. plugin.toml declares `greet` for the sample's own point, sample.greeting.
 */
export function extend(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const registered = registerExtension(input.text(), 'shout');
    return registered.ok ? Output.text('registered') : Output.status(registered);
  });
}
