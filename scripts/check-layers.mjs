#!/usr/bin/env node
// Enforces the layering in docs/architecture.md:
//   packages: common <- microkernel <- plugin-manager <- forge (imports point left only);
//   inside plugin-manager/src: plugin, abi, attestation, loader <- runtime, syscall, sandbox
//     <- lifecycle, extension, metrics <- registry; inside microkernel/src: audit, trust
//     <- anomaly <- bridge <- testing; with no cycles between folders of a package;
//   workspace and npm imports are declared in the importing package's dependencies;
//   relative imports stay inside their own package;
//   process.env is read only by composition roots (forge, plugin-manager/src/registry);
//   in plugin-manager/src/attestation only crypto.ts imports node:crypto.
// Usage: node scripts/check-layers.mjs [--root DIR]. Exit status 1 lists every violation.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ORDER = ['common', 'microkernel', 'plugin-manager', 'forge'];
// The ranked folders of each package's src/: a folder may import its own rank and below.
const FOLDER_RANKS = {
  'plugin-manager': {
    plugin: 0,
    abi: 0,
    attestation: 0,
    loader: 0,
    runtime: 1,
    syscall: 1,
    sandbox: 1,
    lifecycle: 2,
    extension: 2,
    metrics: 2,
    lint: 2,
    registry: 3,
    testing: 4,
  },
  microkernel: {
    audit: 0,
    trust: 0,
    anomaly: 1,
    bridge: 2,
    testing: 3,
  },
};
const ENV_ALLOWED = [/^packages\/forge\/src\//, /^packages\/plugin-manager\/src\/registry\//, /^packages\/common\/src\/testing\//];
const CRYPTO_RULE = { folder: 'packages/plugin-manager/src/attestation/', allowed: 'packages/plugin-manager/src/attestation/crypto.ts' };

const argRoot = process.argv.indexOf('--root');
const root = resolve(argRoot === -1 ? fileURLToPath(new URL('..', import.meta.url)) : process.argv[argRoot + 1]);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') yield* walk(path);
    } else if (entry.isFile() && path.endsWith('.ts') && !path.endsWith('.d.ts')) yield path;
  }
}

// Imports are found with TypeScript's own pre-processor, so strings and comments that
// look like imports never count.
const require = createRequire(import.meta.url);
const ts = require('typescript');
const builtins = new Set(builtinModules);

function importsOf(text) {
  const info = ts.preProcessFile(text, true, true);
  const lineOf = (pos) => text.slice(0, pos).split('\n').length;
  return info.importedFiles.map((file) => ({ specifier: file.fileName, line: lineOf(file.pos) }));
}

/** The text without comments and string contents, for the process.env check. */
function codeOnly(text) {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  let out = '';
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    const token = scanner.getTokenText();
    const blank = kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia || kind === ts.SyntaxKind.StringLiteral || kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral;
    out += blank ? token.replace(/[^\n]/g, ' ') : token;
  }
  return out;
}

const packages = new Map(); // npm name -> { dir, rank, deps }
for (const dir of PACKAGE_ORDER) {
  const manifestPath = join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  packages.set(manifest.name, {
    dir,
    rank: PACKAGE_ORDER.indexOf(dir),
    deps: new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]),
  });
}
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const devDeps = new Set(Object.keys(rootManifest.devDependencies ?? {}));

const violations = [];
const folderEdges = new Map(); // folder -> Map(folder -> example location)

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The folder of `file` directly under packages/<dir>/src; undefined for a file at src/ (the package's entry). */
function srcFolder(dir, file) {
  const rel = relative(join(root, 'packages', dir, 'src'), file).split(sep);
  return rel.length > 1 ? rel[0] : undefined;
}

for (const [, pkg] of packages) {
  const srcDir = join(root, 'packages', pkg.dir, 'src');
  if (!existsSync(srcDir)) continue;
  for (const file of walk(srcDir)) {
    const rel = relative(root, file).split(sep).join('/');
    const isTest = /\.test\.ts$/.test(rel) || rel.includes('/test-support/');
    const text = readFileSync(file, 'utf8');
    const imports = importsOf(text);
    const code = /process\.env/.test(text) ? codeOnly(text) : '';
    if (!isTest && /\bprocess\.env\b/.test(code) && !ENV_ALLOWED.some((pattern) => pattern.test(rel))) {
      const line = code.slice(0, code.search(/\bprocess\.env\b/)).split('\n').length;
      violations.push(`${rel}:${line}: reads process.env; only composition roots (forge, plugin-manager/src/registry) may`);
    }
    const ranks = FOLDER_RANKS[pkg.dir];
    const fromFolder = ranks === undefined ? undefined : srcFolder(pkg.dir, file);
    if (fromFolder !== undefined && !(fromFolder in ranks) && fromFolder !== 'test-support') {
      violations.push(`${rel}:1: folder ${pkg.dir}/src/${fromFolder} has no layer; add it to scripts/check-layers.mjs and docs/architecture.md`);
    }
    for (const { specifier, line } of imports) {
      const where = `${rel}:${line}`;
      if (specifier.startsWith('node:') || builtins.has(specifier)) {
        if (!specifier.startsWith('node:')) violations.push(`${where}: import Node built-ins with the node: prefix (${specifier})`);
        if (specifier === 'node:crypto' && rel.startsWith(CRYPTO_RULE.folder) && rel !== CRYPTO_RULE.allowed && !isTest) {
          violations.push(`${where}: only ${CRYPTO_RULE.allowed} may import node:crypto in attestation/`);
        }
        continue;
      }
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(srcDir + sep)) {
          violations.push(`${where}: relative import ${specifier} leaves packages/${pkg.dir}/src; import the package by name`);
          continue;
        }
        if (fromFolder !== undefined) {
          const toFolder = srcFolder(pkg.dir, target);
          if (toFolder === undefined) {
            violations.push(`${where}: ${fromFolder}/ imports the package entry (${specifier}); import the folder that defines it`);
          } else if (toFolder !== fromFolder && toFolder !== 'test-support') {
            const fromRank = ranks[fromFolder];
            const toRank = ranks[toFolder];
            if (toRank === undefined) continue; // reported above for its own files
            if (fromRank !== undefined && toRank > fromRank) {
              violations.push(`${where}: upward import from ${fromFolder}/ (layer ${fromRank}) to ${toFolder}/ (layer ${toRank})`);
            }
            const from = `${pkg.dir}/${fromFolder}`;
            const to = `${pkg.dir}/${toFolder}`;
            if (!folderEdges.has(from)) folderEdges.set(from, new Map());
            if (!folderEdges.get(from).has(to)) folderEdges.get(from).set(to, where);
          }
        }
        continue;
      }
      const name = packageName(specifier);
      const target = packages.get(name);
      if (target !== undefined) {
        if (target.rank >= pkg.rank) {
          violations.push(`${where}: upward import of ${name} from ${pkg.dir} (allowed: ${PACKAGE_ORDER.slice(0, pkg.rank).join(', ') || 'none'})`);
        } else if (!pkg.deps.has(name)) {
          violations.push(`${where}: imports ${name} but packages/${pkg.dir}/package.json does not depend on it`);
        }
        continue;
      }
      if (!pkg.deps.has(name) && !(isTest && devDeps.has(name))) {
        violations.push(`${where}: imports ${name}, which packages/${pkg.dir}/package.json does not list in dependencies`);
      }
    }
  }
}

// Cycles between the folders of a package (same-layer folders may import each other, but not in a loop).
const state = new Map();
function visit(folder, stack) {
  state.set(folder, 'active');
  for (const [next, where] of folderEdges.get(folder) ?? []) {
    if (state.get(next) === 'active') {
      const path = [...stack, folder];
      const cycle = [...path.slice(path.indexOf(next)), next];
      violations.push(`${where}: import cycle between folders: ${cycle.join(' -> ')}`);
    } else if (!state.has(next)) visit(next, [...stack, folder]);
  }
  state.set(folder, 'done');
}
for (const folder of folderEdges.keys()) if (!state.has(folder)) visit(folder, []);

if (violations.length > 0) {
  console.error(`check-layers: ${violations.length} violation${violations.length === 1 ? '' : 's'}`);
  for (const violation of violations) console.error(`  ${violation}`);
  process.exit(1);
}
console.error('check-layers: ok');
