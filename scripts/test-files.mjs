// The test files of the workspace, for scripts/run-tests.mjs and scripts/fuzz.mjs (Node 20's
// --test takes no globs).
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `dir` (recursively) whose name ends with `suffix`, as absolute paths. */
export function* filesUnder(dir, suffix) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path, suffix);
    else if (entry.isFile() && entry.name.endsWith(suffix)) yield path;
  }
}

/** The files under `root`/packages/<pkg>/dist whose name ends with `suffix`, relative to `root`. */
export function builtFiles(root, suffix) {
  const files = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const dist = join(root, 'packages', pkg, 'dist');
    if (existsSync(dist)) for (const file of filesUnder(dist, suffix)) files.push(relative(root, file));
  }
  return files;
}
