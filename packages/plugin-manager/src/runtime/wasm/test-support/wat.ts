/**
 * The runtime tests' preset of the workspace's WAT assembler (test-support/wat.ts):
 * every proposal ForgeOne instruments is enabled, since these tests exercise them all.
 */
import { ALL_FEATURES, assembleWat } from '../../../test-support/wat.js';

/**
 * Assembles WebAssembly text with every proposal in ALL_FEATURES enabled; see
 * {@link assembleWat} for the checks and errors.
 * @param options.names also write the name section
 */
export function wat(source: string, options: { readonly names?: boolean } = {}): Promise<Uint8Array> {
  return assembleWat(source, { features: ALL_FEATURES, name: 'test', names: options.names === true });
}
