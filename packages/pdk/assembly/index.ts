// @forgeone/pdk: the ForgeOne plugin development kit for AssemblyScript (forge/1 ABI,
// docs/reference/abi.md; guide: docs/guide/assemblyscript.md).
//
// A plugin's entry file re-exports the allocator and writes its callables with `call`:
//
//   import { call, Input, Output } from '@forgeone/pdk';
//   export { forge_alloc, forge_free } from '@forgeone/pdk';
//   export function greet(ptr: u32, len: u32): u64 {
//     return call(ptr, len, (input: Input): Output => Output.text('Hello, ' + input.text() + '!'));
//   }
//
// Build it with the PDK's build (node_modules/@forgeone/pdk/build.mjs), which runs asc
// with the minimal runtime and routes `abort` to forge.log.
export { forge_alloc, forge_free, MAX_REGION } from './abi';
export { ByteReader, ByteWriter, WriterFailure, text, utf8 } from './bytes';
export { BytesResult, Status, failInto, failure } from './status';
export { call, lifecycle, Input, Output, ERROR_MESSAGE_MAX } from './exports';
export { Callable, Step } from './exports';
export {
  log,
  Level,
  configGet,
  kvGet,
  kvSet,
  kvDelete,
  KvDeleteResult,
  kvList,
  KvPage,
  fileRead,
  fileWrite,
  FileMode,
  emitEvent,
  timeNow,
  Time,
  randomBytes,
  callPlugin,
  registerExtension,
} from './host';
export { http, httpGet, Header, HttpRequest, HttpResponse } from './http';
export { JsonWriter, JSON_MAX_DEPTH } from './json';
export { parseJson, JsonKind, JsonValue, JsonResult } from './json-read';
// Named by the build's `--use abort=...`; exported so asc parses them.
export { forgeAbort, forgeAbortQuiet } from './abort';
