/**
 * Signed packages of test plugins for the daemon's tests: a plugin that logs and emits
 * events on request (`chatty`), and versions of the greeter (greeter.ts) with other
 * permissions (upgrades that need approval). Packed and signed with the workspace's
 * publisher key (signingWorkspace), as an operator would.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assembleWat } from '@forgeone/plugin-manager/test-support';
import { pack } from '../cli/commands/package/pack.js';
import { sign } from '../cli/commands/package/sign.js';
import { cliFor } from './cli.js';
import { greeterWasm } from './greeter.js';

const { ok } = cliFor([pack, sign]);

/**
 * A guest whose exports hand their input to a host call unchanged and answer its
 * result: `say(input)` calls forge.log (the input is its request: a level byte, then the
 * text), `emit(input)` calls forge.emit_event (the input is a u32 name length, the
 * name, then the payload). A host call's error comes back as the call's error.
 */
export const CHATTY_WAT = `(module
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (import "forge" "emit_event" (func $emit (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "forge_alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 0xFFFF)) (i32.const 16)) (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "forge_free") (param i32 i32))
  (func (export "say") (param $p i32) (param $n i32) (result i64) (call $log (local.get $p) (local.get $n)))
  (func (export "emit") (param $p i32) (param $n i32) (result i64) (call $emit (local.get $p) (local.get $n))))`;

/** The input of chatty's `say`: a forge.log request at level info. */
export function sayInput(text: string): Uint8Array {
  return Buffer.concat([Buffer.from([2]), Buffer.from(text, 'utf8')]);
}

/** The input of chatty's `emit`: a forge.emit_event request. */
export function emitInput(name: string, payload: Uint8Array): Uint8Array {
  const field = Buffer.alloc(4);
  field.writeUInt32LE(Buffer.byteLength(name));
  return Buffer.concat([field, Buffer.from(name, 'utf8'), payload]);
}

/** What a test plugin is. */
export interface TestPluginSpec {
  readonly name: string;
  readonly version: string;
  /** plugin.toml lines after the [plugin] table, e.g. `[permissions]\nsyscalls = ["forge.kv_get"]\n`. */
  readonly toml?: string;
  /** The module as text; default: the greeter (greeter.ts), which imports nothing. */
  readonly wat?: string;
}

/** Packs and signs `spec` in `dir`; returns the package's bytes. */
export async function signedPlugin(dir: string, spec: TestPluginSpec): Promise<Buffer> {
  const source = join(dir, `src-${spec.name}-${spec.version}`);
  await mkdir(source, { recursive: true });
  await writeFile(join(source, 'plugin.toml'), `[plugin]\nname = "${spec.name}"\nversion = "${spec.version}"\n${spec.toml ?? ''}`);
  if (spec.wat === undefined) await writeFile(join(source, 'plugin.wasm'), await greeterWasm());
  else await writeFile(join(source, 'plugin.wasm'), await assembleWat(spec.wat, { name: spec.name }));
  const file = `${spec.name}-${spec.version}.forgepkg`;
  await ok(dir, 'pack', source, '-o', file);
  await ok(dir, 'sign', file, '--key', 'publisher.key', '--cert', 'publisher.pem');
  return readFile(join(dir, file));
}

/** The chatty plugin, signed. */
export function signedChatty(dir: string, version = '1.0.0'): Promise<Buffer> {
  return signedPlugin(dir, { name: 'chatty', version, wat: CHATTY_WAT, toml: '[permissions]\nsyscalls = ["forge.emit_event"]\n' });
}
