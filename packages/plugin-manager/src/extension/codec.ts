/**
 * Wire format of the registry's own host calls (forge/1, docs/reference/abi.md §14):
 * - `forge.register_extension`: request `field(point) field(export)`; response empty.
 * - `forge.call_plugin`: request `field(plugin) field(export) rest(input)`; response the
 *   target's output bytes.
 * (`field` = u32 little-endian length + bytes; `rest` = the remaining bytes.)
 */
import { ForgeError } from '@forgeone/common';
import { RequestReader } from '../syscall/codec.js';

/** An extension point name: 1-128 of a-z 0-9 . _ / -, starting and ending with a letter or digit. */
export const POINT = /^[a-z0-9](?:[a-z0-9._/-]{0,126}[a-z0-9])?$/;
/** A wasm export name a registration may name. */
const EXPORT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Decodes a forge.register_extension request. @throws ForgeError FO_ABI_BAD_REQUEST */
export function decodeRegisterExtension(request: Uint8Array): { point: string; export: string } {
  const reader = new RequestReader('forge.register_extension', request);
  const point = reader.text('point');
  const exportName = reader.text('export');
  reader.end();
  if (!POINT.test(point) || !EXPORT.test(exportName)) {
    throw new ForgeError('FO_ABI_BAD_REQUEST', 'forge.register_extension: expected an extension point name and a wasm export name');
  }
  return { point, export: exportName };
}

/** Decodes a forge.call_plugin request. @throws ForgeError FO_ABI_BAD_REQUEST */
export function decodeCallPlugin(request: Uint8Array): { plugin: string; export: string; input: Uint8Array } {
  const reader = new RequestReader('forge.call_plugin', request);
  const plugin = reader.text('plugin');
  const exportName = reader.text('export');
  const input = reader.rest();
  if (!EXPORT.test(exportName)) throw new ForgeError('FO_ABI_BAD_REQUEST', 'forge.call_plugin: expected a wasm export name');
  return { plugin, export: exportName, input };
}
