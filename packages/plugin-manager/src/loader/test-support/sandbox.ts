/**
 * A throw-away directory tree for tests that unpack hostile packages: `outer` (a fresh
 * mkdtemp directory) holds `sandbox`, which holds the sink's temp root. A traversal
 * that escapes the unpack directory by up to three levels lands inside `outer`, so a
 * recursive snapshot of `outer` before and after shows anything that appeared.
 */
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export interface Sandbox {
  /** The fresh directory everything lives under. */
  readonly outer: string;
  /** `outer/sandbox`: the parent of the temp root. */
  readonly sandbox: string;
  /** `outer/sandbox/tmp`: pass this to `DirectorySink.create`. Not created here. */
  readonly tempRoot: string;
  /** Every path under `outer`, relative and tagged with its type (`d`, `f`, `l`), sorted. */
  snapshot(): Promise<string[]>;
  remove(): Promise<void>;
}

export async function createSandbox(): Promise<Sandbox> {
  const outer = await mkdtemp(join(tmpdir(), 'forge-archive-test-'));
  const sandbox = join(outer, 'sandbox');
  await mkdir(sandbox);
  return {
    outer,
    sandbox,
    tempRoot: join(sandbox, 'tmp'),
    snapshot: async () => (await walk(outer, outer)).sort(),
    remove: () => rm(outer, { recursive: true, force: true }),
  };
}

async function walk(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    found.push(`${info.isSymbolicLink() ? 'l' : info.isDirectory() ? 'd' : 'f'} ${relative(root, path)}`);
    if (info.isDirectory()) found.push(...(await walk(root, path)));
  }
  return found;
}
