import { ForgeError, describeValue } from '@forgeone/common';
import type { ModuleInfo } from './analyze.js';
import type { ExternKind } from './model.js';

/** Decides whether one import may be satisfied. */
export type ImportPredicate = (module: string, name: string, kind: ExternKind) => boolean;

/** Options for {@link checkImports}. */
export interface CheckImportsOptions {
  /**
   * Let memory, table and global imports through when the predicate allows them.
   * Default false: a plugin defines (and exports) its own memory and tables, and a
   * shared or host-owned one would let it reach state beyond its sandbox.
   */
  readonly allowNonFunctionImports?: boolean;
}

/** One refused import, as listed in FO_RUNTIME_IMPORT_DENIED's details. */
export interface DeniedImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternKind;
}

/** How many denied imports the message names before summarising the rest. */
const SHOWN = 10;

/**
 * Checks a module's import surface: every function import must satisfy `isAllowed`,
 * and every memory, table or global import is refused unless
 * `options.allowNonFunctionImports` is set and `isAllowed` accepts it too. Reports every
 * denied import at once.
 *
 * @param isAllowed the grant, e.g. derived from the manifest's permissions
 * @throws ForgeError FO_RUNTIME_IMPORT_DENIED; details.denied lists every denied import
 *   as { module, name, kind }, in module order
 */
export function checkImports(info: Pick<ModuleInfo, 'imports'>, isAllowed: ImportPredicate, options: CheckImportsOptions = {}): void {
  const denied: DeniedImport[] = [];
  for (const entry of info.imports) {
    const kindAllowed = entry.kind === 'function' || options.allowNonFunctionImports === true;
    if (!kindAllowed || !isAllowed(entry.module, entry.name, entry.kind)) denied.push({ module: entry.module, name: entry.name, kind: entry.kind });
  }
  if (denied.length === 0) return;
  const shown = denied.slice(0, SHOWN).map((entry) => `${entry.kind} ${describeValue(entry.module)}.${describeValue(entry.name)}`);
  const rest = denied.length > SHOWN ? ` and ${denied.length - SHOWN} more` : '';
  throw new ForgeError('FO_RUNTIME_IMPORT_DENIED', `imports: expected only granted imports, found ${denied.length} not granted: ${shown.join(', ')}${rest}`, {
    details: { denied },
  });
}
