/**
 * Extension points: a plugin (or the host) offers a named point; plugins implement it,
 * declared in their manifest (`extensions = [{ point, export }]`) or registered at run
 * time with `forge.register_extension`. The host lists and invokes the implementations
 * of Running plugins; unloading a plugin removes what it registered.
 *
 * Wire format of the registry's own host calls (forge/1, docs/reference/abi.md §14):
 * - `forge.register_extension`: request `field(point) field(export)`; response empty.
 * - `forge.call_plugin`: request `field(plugin) field(export) rest(input)`; response the
 *   target's output bytes.
 * (`field` = u32 little-endian length + bytes; `rest` = the remaining bytes.)
 */
import { ForgeError } from '@forgeone/common';
import { RequestReader } from '../syscall/codec.js';

/** One implementation of an extension point. */
export interface ExtensionImplementation {
  readonly point: string;
  /** The implementing plugin's id. */
  readonly plugin: string;
  readonly export: string;
  /** `manifest` (declared) or `runtime` (forge.register_extension). */
  readonly source: 'manifest' | 'runtime';
}

const POINT = /^[a-z0-9](?:[a-z0-9._/-]{0,126}[a-z0-9])?$/;
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

/** The extension points and implementations a registry knows. */
export class ExtensionTable {
  readonly #hostPoints = new Set<string>();
  readonly #runtime = new Map<string, ExtensionImplementation[]>();

  /** Declares a point the host itself offers (plugins may implement it). */
  declareHostPoint(point: string): void {
    if (!POINT.test(point)) throw new ForgeError('FO_ABI_BAD_REQUEST', `extension point names are 1-128 of a-z 0-9 . _ / -, found ${JSON.stringify(point)}`);
    this.#hostPoints.add(point);
  }

  /** True when the host declared `point`. */
  hostOffers(point: string): boolean {
    return this.#hostPoints.has(point);
  }

  /** Records a runtime registration by `plugin`; registering the same pair twice is a no-op. */
  register(plugin: string, point: string, exportName: string): void {
    const list = this.#runtime.get(plugin) ?? [];
    if (!list.some((entry) => entry.point === point && entry.export === exportName)) list.push({ point, plugin, export: exportName, source: 'runtime' });
    this.#runtime.set(plugin, list);
  }

  /** What `plugin` registered at run time. */
  registeredBy(plugin: string): readonly ExtensionImplementation[] {
    return this.#runtime.get(plugin) ?? [];
  }

  /** Forgets everything `plugin` registered (on unload). */
  forget(plugin: string): void {
    this.#runtime.delete(plugin);
  }
}
