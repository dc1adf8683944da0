#!/usr/bin/env node
// Part of `npm run build`: copies each language's PDK next to the compiled CLI, into
// packages/forge/dist/pdk/<language>/, where `forge init` takes the copy it puts in a new
// project's pdk/ (packages/forge/src/cli/commands/init/scaffold.ts). Only sources travel:
// the C headers, the Rust crate's src/ and build.mjs, the AssemblyScript npm package (no
// tests).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'packages/forge/dist/pdk');

/** language -> [source directory, files kept, subfolder in the copy] */
const SOURCES = {
  c: ['pdk/c', /\.h$/, ''],
  rust: ['pdk/rust/src', /\.rs$/, 'src'],
  // The whole npm package but its tests and tsconfig (which points into this repository):
  // a project installs it from its pdk/ ("@forgeone/pdk": "file:pdk").
  assemblyscript: ['packages/pdk', /^(?!tsconfig\.json$).*\.(?:ts|mjs|json)$/, ''],
};

/** Copies the files of `from` (recursively) matching `keep` into `to`; unchanged files are left alone. */
function copyTree(from, to, keep) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const copy = join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'tests' && entry.name !== 'node_modules') copyTree(source, copy, keep);
    }
    else if (keep.test(entry.name) && !/\.test\./.test(entry.name) && (!existsSync(copy) || !readFileSync(copy).equals(readFileSync(source)))) copyFileSync(source, copy);
  }
}

for (const [language, [source, keep, sub]] of Object.entries(SOURCES)) {
  const from = join(root, source);
  const to = join(target, language);
  if (!existsSync(from)) {
    rmSync(to, { recursive: true, force: true });
    continue;
  }
  copyTree(from, join(to, sub), keep);
}
// The Rust crate builds with rustc alone through its build script, which a project needs too.
const rustBuild = join(root, 'pdk/rust/build.mjs');
const rustBuildCopy = join(target, 'rust', 'build.mjs');
if (existsSync(rustBuild) && (!existsSync(rustBuildCopy) || !readFileSync(rustBuildCopy).equals(readFileSync(rustBuild)))) copyFileSync(rustBuild, rustBuildCopy);
