// Typed wrappers for the forge.* host calls (docs/reference/abi.md §6, §14) other than
// forge.http_request (http.ts). Each builds its request, calls the import and settles the
// answer into a Status (or a Status subclass holding the decoded answer). An import a
// plugin never calls is not in its module: asc drops unused declarations, so a plugin
// asks for no more than it uses.
import { addressOf } from './abi';
import { ByteReader, ByteWriter, text, utf8 } from './bytes';
import { BytesResult, Status, failInto, failure, settle, writerStatus } from './status';

// @ts-ignore: decorator
@external('forge', 'log') declare function forge_log(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'config_get') declare function forge_config_get(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'kv_get') declare function forge_kv_get(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'kv_set') declare function forge_kv_set(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'kv_delete') declare function forge_kv_delete(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'kv_list') declare function forge_kv_list(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'file_read') declare function forge_file_read(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'file_write') declare function forge_file_write(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'emit_event') declare function forge_emit_event(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'time_now') declare function forge_time_now(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'random_get') declare function forge_random_get(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'call_plugin') declare function forge_call_plugin(ptr: usize, len: usize): u64;
// @ts-ignore: decorator
@external('forge', 'register_extension') declare function forge_register_extension(ptr: usize, len: usize): u64;

/** forge.log levels. */
export enum Level {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/**
 * forge.log: one record in the host's log for this plugin. Needs no permission. The
 * message is at most 16 KiB (FO_ABI_INPUT_TOO_LARGE beyond); over the host's rate the
 * record is dropped (FO_SYSCALL_RATE_LIMITED).
 */
export function log(level: Level, message: string): Status {
  const m = utf8(message);
  const request = new Uint8Array(1 + m.length);
  request[0] = <u8>level;
  request.set(m, 1);
  return settle(forge_log(addressOf(request), <usize>request.length), new Status());
}

/** forge.config_get: the operator's value for `key` (FO_SYSCALL_CONFIG_NOT_FOUND when none). Needs no permission. */
export function configGet(key: string): BytesResult {
  const k = utf8(key);
  return settle(forge_config_get(addressOf(k), <usize>k.length), new BytesResult());
}

/** forge.kv_get: the value under `key` (FO_SYSCALL_KV_NOT_FOUND when absent). Needs forge.kv_get. */
export function kvGet(key: string): BytesResult {
  const k = utf8(key);
  return settle(forge_kv_get(addressOf(k), <usize>k.length), new BytesResult());
}

/** forge.kv_set: stores `value` under `key`, on disk when it returns. Needs forge.kv_set. */
export function kvSet(key: string, value: Uint8Array): Status {
  const w = new ByteWriter();
  w.field(utf8(key));
  w.write(value);
  const req = request(w);
  if (req === null) return statusOf(refused(w));
  return statusOf(settle(forge_kv_set(addressOf(req), <usize>req.length), new BytesResult()));
}

/** forge.kv_delete's answer: whether the key was there. */
export class KvDeleteResult extends Status {
  removed: bool = false;
}

/** forge.kv_delete: removes `key`. Needs forge.kv_delete. */
export function kvDelete(key: string): KvDeleteResult {
  const k = utf8(key);
  const out = settle(forge_kv_delete(addressOf(k), <usize>k.length), new BytesResult());
  const result = new KvDeleteResult();
  if (!out.ok) return failInto(result, out);
  if (out.value.length != 1 || out.value[0] > 1) return failInto(result, failure('PDK_BAD_RESPONSE', 'forge.kv_delete answered other than one byte 0 or 1'));
  result.removed = out.value[0] == 1;
  return result;
}

/** One page of forge.kv_list. */
export class KvPage extends Status {
  /** The keys of this page, in byte order. */
  keys: string[] = [];
  /** Pass it back for the next page; empty when the listing is complete. */
  cursor: Uint8Array = new Uint8Array(0);
}

/** forge.kv_list: up to `limit` keys (0: the host's maximum) starting with `prefix`, after `cursor`. Needs forge.kv_list. */
export function kvList(prefix: string, cursor: Uint8Array = new Uint8Array(0), limit: u32 = 0): KvPage {
  const w = new ByteWriter();
  w.u32(limit);
  w.field(utf8(prefix));
  w.write(cursor);
  const page = new KvPage();
  const req = request(w);
  const out = req === null ? refused(w) : settle(forge_kv_list(addressOf(req), <usize>req.length), new BytesResult());
  if (!out.ok) return failInto(page, out);
  // The whole layout is checked before anything is handed out.
  const r = new ByteReader(out.value);
  const n = r.u32();
  for (let i: u32 = 0; i < n && !r.failed; i++) page.keys.push(text(r.field()));
  page.cursor = r.field();
  if (r.failed || r.remaining != 0) {
    page.keys = [];
    page.cursor = new Uint8Array(0);
    return failInto(page, failure('PDK_BAD_RESPONSE', 'forge.kv_list answered a malformed page'));
  }
  return page;
}

/** forge.file_read: a whole file at a guest path inside a volume (needs filesystem "read"). */
export function fileRead(path: string): BytesResult {
  const p = utf8(path);
  return settle(forge_file_read(addressOf(p), <usize>p.length), new BytesResult());
}

/** forge.file_write modes. */
export enum FileMode {
  /** Replace atomically (write beside, sync, rename). */
  Replace = 0,
  /** Append, creating a missing file. */
  Append = 1,
  /** Create; FO_SYSCALL_FILE_EXISTS when the file exists. */
  Create = 2,
}

/** forge.file_write: replace, append to or create a file in a rw volume (needs filesystem "write"). */
export function fileWrite(path: string, mode: FileMode, data: Uint8Array): Status {
  const w = new ByteWriter();
  w.field(utf8(path));
  w.u32(<u32>mode);
  w.write(data);
  const req = request(w);
  if (req === null) return statusOf(refused(w));
  return statusOf(settle(forge_file_write(addressOf(req), <usize>req.length), new BytesResult()));
}

/** forge.emit_event: tells the host's listeners (needs forge.emit_event). */
export function emitEvent(name: string, payload: Uint8Array): Status {
  const w = new ByteWriter();
  w.field(utf8(name));
  w.write(payload);
  const req = request(w);
  if (req === null) return statusOf(refused(w));
  return statusOf(settle(forge_emit_event(addressOf(req), <usize>req.length), new BytesResult()));
}

/** forge.time_now's answer. */
export class Time extends Status {
  /** Wall-clock time, ns since the Unix epoch (millisecond resolution). */
  wallNs: u64 = 0;
  /** Monotonic time, ns since an arbitrary origin. */
  monotonicNs: u64 = 0;
}

/** forge.time_now: the clocks. Needs no permission. */
export function timeNow(): Time {
  const out = settle(forge_time_now(0, 0), new BytesResult());
  const time = new Time();
  if (!out.ok) return failInto(time, out);
  if (out.value.length != 16) return failInto(time, failure('PDK_BAD_RESPONSE', 'forge.time_now answered other than 16 bytes'));
  time.wallNs = load<u64>(out.value.dataStart);
  time.monotonicNs = load<u64>(out.value.dataStart, 8);
  return time;
}

/** forge.random_get: `count` secure random bytes (at most 64 KiB: FO_SYSCALL_PAYLOAD_TOO_LARGE). Needs no permission. */
export function randomBytes(count: u32): BytesResult {
  const request = new Uint8Array(4);
  store<u32>(request.dataStart, count);
  const out = settle(forge_random_get(addressOf(request), 4), new BytesResult());
  if (out.ok && <u32>out.value.length != count) {
    out.value = new Uint8Array(0);
    failInto(out, failure('PDK_BAD_RESPONSE', 'forge.random_get answered another byte count'));
  }
  return out;
}

/** forge.call_plugin: calls `exportName` of a declared dependency (needs forge.call_plugin). */
export function callPlugin(plugin: string, exportName: string, input: Uint8Array): BytesResult {
  const w = new ByteWriter();
  w.field(utf8(plugin));
  w.field(utf8(exportName));
  w.write(input);
  const req = request(w);
  if (req === null) return refused(w);
  return settle(forge_call_plugin(addressOf(req), <usize>req.length), new BytesResult());
}

/** forge.register_extension: registers `exportName` as an implementation of extension `point`. Needs no permission. */
export function registerExtension(point: string, exportName: string): Status {
  const w = new ByteWriter();
  w.field(utf8(point));
  w.field(utf8(exportName));
  const req = request(w);
  if (req === null) return statusOf(refused(w));
  return statusOf(settle(forge_register_extension(addressOf(req), <usize>req.length), new BytesResult()));
}

// A writer-built request, settled. The import is called by each wrapper itself, so a
// plugin's module imports only the calls it makes.
function request(w: ByteWriter): Uint8Array | null {
  return w.failed ? null : w.toBytes();
}

function statusOf(out: BytesResult): Status {
  return out.ok ? new Status() : failInto(new Status(), out);
}

function refused(w: ByteWriter): BytesResult {
  return failInto(new BytesResult(), writerStatus(w));
}
