/**
 * The first thing opening a store does: its directory and the store's own directories
 * (.store/, staging/, trash/) created if missing, each flushed into its parent when new,
 * and the layout format checked, or written for a new store (layout.ts).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { makeDirectoryDurable, replaceFileAtomic } from './durable.js';
import { STATE_MODE } from './install.js';
import { STORE_FORMAT, type StoreLayout } from './layout.js';
import { corrupt } from './reader.js';
import { DIRECTORY_MODE } from './stage.js';

/**
 * Creates what is missing of the store at `layout.root` and checks its layout format.
 * @throws ForgeError FO_STORE_CORRUPT when the directory holds a store of another
 *   layout version, FO_IO_*
 */
export async function prepareStoreDirectory(layout: StoreLayout): Promise<void> {
  try {
    await mkdir(layout.root, { recursive: true, mode: DIRECTORY_MODE });
  } catch (error) {
    throw fromFsError(error, 'create the plugin directory', layout.root);
  }
  for (const dir of [layout.meta, layout.staging, layout.trash]) {
    try {
      await makeDirectoryDurable(dir, DIRECTORY_MODE);
    } catch (error) {
      if (!ForgeError.is(error, 'FO_IO_EXISTS')) throw error;
    }
  }
  const format = await readFile(layout.formatFile, 'utf8').catch((error: unknown) => {
    if (isNodeSystemError(error, 'ENOENT')) return undefined;
    throw fromFsError(error, 'read the store format', layout.formatFile);
  });
  if (format === undefined) {
    await replaceFileAtomic(layout.formatFile, `${JSON.stringify({ format: STORE_FORMAT })}\n`, STATE_MODE);
  } else if (!/^\{"format":1\}\s*$/.test(format)) {
    throw corrupt(layout.formatFile, `expected a plugin store of layout format ${STORE_FORMAT} at ${layout.root}, found ${JSON.stringify(format.slice(0, 80))} in ${layout.formatFile}`);
  }
}
