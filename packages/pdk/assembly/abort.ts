// AssemblyScript calls `abort` on a failed assertion, an index out of range or a `throw`.
// By default asc imports it from the module `env`, which a ForgeOne host does not offer
// (FO_ABI_UNRESOLVED_IMPORT). The PDK's build routes it here (`--use abort=...`): the
// message goes to forge.log at error level, then the call traps, so the host discards the
// instance (FO_ABI_GUEST_TRAP) and the operator reads why in the plugin's log.
//
// The log record costs the import of forge.log, which needs no permission. Within
// forge_alloc (which must not call the host) the allocator never aborts: it traps.

// @ts-ignore: decorator
@external('forge', 'log')
declare function forge_log(ptr: usize, len: usize): u64;

/** Logs "abort: MESSAGE at FILE:LINE:COLUMN" and traps. */
export function forgeAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = 'abort: ' + (message === null ? '' : message) + ' at ' + (fileName === null ? '?' : fileName) + ':' + line.toString() + ':' + column.toString();
  const bytes = String.UTF8.encode(text);
  const request = new Uint8Array(1 + bytes.byteLength);
  request[0] = 4; // error
  memory.copy(request.dataStart + 1, changetype<usize>(bytes), <usize>bytes.byteLength);
  forge_log(request.dataStart, <usize>request.length);
  unreachable();
}

/** Traps without a word: for a plugin that imports nothing at all. */
export function forgeAbortQuiet(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}
