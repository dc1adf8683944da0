/**
 * A signed plugin whose text is hostile, for the tests that check the CLI escapes what
 * plugins say before it reaches a terminal: it logs, emits events and answers with
 * whatever bytes it is given (escape sequences, bidi overrides, newlines).
 *
 * Exports (forge/1): `echo` returns its input; `log` passes its input to forge.log as the
 * request (a level byte, then the message); `emit` passes it to forge.emit_event (the
 * name field, then the payload); `spin` loops until its time or fuel runs out.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assembleWat } from '@forgeone/plugin-manager/test-support';
import { pack } from '../cli/commands/package/pack.js';
import { sign } from '../cli/commands/package/sign.js';
import { cliFor } from './cli.js';

const HOSTILE_WAT = `(module
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (import "forge" "emit_event" (func $emit (param i32 i32) (result i64)))
  (memory (export "memory") 1 16)
  (global $heap (mut i32) (i32.const 1024))
  (func $alloc (export "forge_alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "forge_free") (param $ptr i32) (param $len i32))
  (func (export "echo") (param $p i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "log") (param $p i32) (param $len i32) (result i64) (call $log (local.get $p) (local.get $len)))
  (func (export "emit") (param $p i32) (param $len i32) (result i64) (call $emit (local.get $p) (local.get $len)))
  (func (export "spin") (param $p i32) (param $len i32) (result i64) (loop $forever (br $forever)) (i64.const 0))
)`;

const { ok } = cliFor([pack, sign]);

/**
 * Packs and signs (with the workspace's publisher) the hostile plugin as
 * `hostile-VERSION.forgepkg` in `dir`; returns its path. `permissions` are TOML lines
 * of its [permissions] table beyond the two host calls it needs.
 */
export async function signedHostilePlugin(dir: string, version = '1.0.0', permissions = ''): Promise<string> {
  const src = join(dir, `hostile-src-${version}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'plugin.toml'), `[plugin]\nname = "hostile"\nversion = "${version}"\n\n[permissions]\nsyscalls = ["forge.log", "forge.emit_event"]\n${permissions}`);
  await writeFile(join(src, 'plugin.wasm'), await assembleWat(HOSTILE_WAT, { name: 'hostile' }));
  const file = `hostile-${version}.forgepkg`;
  await ok(dir, 'pack', src, '-o', file);
  await ok(dir, 'sign', file, '--key', 'publisher.key', '--cert', 'publisher.pem');
  return join(dir, file);
}

/** The request of the plugin's `log` export: level byte `level` (0 trace to 4 error), then `message`. */
export function logRequest(level: number, message: string): string {
  return `${String.fromCharCode(level)}${message}`;
}

/** The request of the plugin's `emit` export: the event name as a field (u32 little-endian length, then the bytes), then the payload. */
export function emitRequest(name: string, payload: string | Uint8Array): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(nameBytes.length);
  return Buffer.concat([length, nameBytes, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload)]);
}
