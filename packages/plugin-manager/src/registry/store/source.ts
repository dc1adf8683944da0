/**
 * Reading a package file whole, once, so that the bytes verified are the bytes stored
 * (the store) or loaded (the registry), and refusing one above the size limit before
 * reading it.
 */
import { open } from 'node:fs/promises';
import { ForgeError, fromFsError } from '@forgeone/common';

/**
 * A package's bytes: `source` itself, or the file it names.
 * @param maxSize `package_limits.max_package_size`, in bytes
 * @throws ForgeError FO_PACKAGE_TOO_LARGE, FO_IO_*
 */
export async function readPackageSource(source: string | Uint8Array, maxSize: number): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  try {
    const handle = await open(source, 'r');
    try {
      const { size } = await handle.stat();
      if (size > maxSize) {
        throw new ForgeError('FO_PACKAGE_TOO_LARGE', `package: expected at most ${maxSize} bytes, found ${size} bytes in ${source}`, {
          details: { limit: maxSize, actual: size, path: source },
        });
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fromFsError(error, 'read the package', source);
  }
}
