/**
 * The AssemblyScript PDK's build: asc with the flags a forge/1 module needs
 * (docs/guide/assemblyscript.md).
 */

/** How {@link buildPlugin} differs from the default. */
export interface BuildOptions {
  /** The abort handler: `forgeAbort` (default: logs through forge.log, then traps) or `forgeAbortQuiet` (traps only). */
  readonly abort?: 'forgeAbort' | 'forgeAbortQuiet';
}

/** asc's arguments for the entry file `entry` (absolute path) and the abort handler `abort` (default `forgeAbort`). */
export function ascArgs(entry: string, abort?: 'forgeAbort' | 'forgeAbortQuiet'): string[];

/**
 * Compiles the AssemblyScript plugin `entry` into `output` (written only when its bytes
 * change). Resolves to the module's size in bytes.
 * @throws Error with asc's diagnostics when the compilation fails
 */
export function buildPlugin(entry: string, output: string, options?: BuildOptions): Promise<number>;
