/**
 * The host files a Node binary needs to start inside an empty root: itself, the shared
 * libraries it links (as the dynamic loader resolves them, under both the path ldd prints
 * and its real path, since merged-/usr hosts reach the same file through /lib and
 * /usr/lib) and the loader's cache. Nothing else of /etc, /home or /root.
 */
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ForgeError } from '@forgeone/common';

/** The absolute paths in `ldd` output: `name => /path (addr)` and the loader's own `/path (addr)` line. */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/[^\s]+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1] !== undefined) paths.push(match[1]);
  }
  return paths;
}

async function ldd(binary: string): Promise<string> {
  // Empty environment: LD_LIBRARY_PATH or LD_PRELOAD of the host must not add paths.
  const { stdout } = await promisify(execFile)('ldd', [binary], { env: {}, timeout: 10_000, encoding: 'utf8' });
  return stdout;
}

/** The cache the dynamic loader reads to find libraries by name. */
export const LD_SO_CACHE = '/etc/ld.so.cache';

/**
 * The read-only paths Node at `node` needs inside a sandbox, sorted and without
 * duplicates: the binary (and its real path when it is a link), every library `ldd`
 * lists (both as listed and resolved) and /etc/ld.so.cache when it exists.
 *
 * @param node the Node binary; default `process.execPath`
 * @throws FO_SANDBOX_UNAVAILABLE when `ldd` cannot run or lists no library (a static
 *   binary is reported by ldd as "not a dynamic executable", which is answered with the binary alone)
 */
export async function nodeRuntimePaths(node: string = process.execPath): Promise<string[]> {
  let output: string;
  try {
    output = await ldd(node);
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: unknown; stdout?: unknown };
    const text = `${typeof stderr === 'string' ? stderr : ''}${typeof stdout === 'string' ? stdout : ''}`;
    if (/not a dynamic executable|statically linked/.test(text)) output = '';
    else throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot list the libraries of ${node} with ldd: ${error instanceof Error ? error.message : String(error)}`, { cause: error, details: { path: node } });
  }
  const resolve = (path: string): Promise<string> =>
    realpath(path).catch((error: unknown) => {
      throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot resolve ${path}, which Node needs in the sandbox: ${error instanceof Error ? error.message : String(error)}`, { cause: error, details: { path } });
    });
  const paths = new Set<string>([node, await resolve(node)]);
  for (const library of parseLdd(output)) {
    paths.add(library);
    paths.add(await resolve(library));
  }
  if (await realpath(LD_SO_CACHE).then(() => true, () => false)) paths.add(LD_SO_CACHE);
  return [...paths].sort();
}
