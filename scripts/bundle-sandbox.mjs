#!/usr/bin/env node
// Part of `npm run build` (and of scripts/run-tests.mjs, so a `tsc -b` build is never run
// with a stale bundle): bundles what a confined sandbox process runs
// (packages/plugin-manager/dist/sandbox/process/child-main.js and what it imports) into
// one CommonJS file, dist/sandbox/process/sandbox-child.cjs, with esbuild.
//
// Why: Node's module loader keeps a record, a source string and a URL per module; the
// sandbox imports about 190 of them through the packages' index files (config parsing,
// YAML, TOML, the audit writer: none of which a sandbox runs). One tree-shaken file is
// ~7 MiB less private memory per sandbox and a faster cold start (bench/process.mjs).
// ForgeOne's own modules are marked free of side effects for this bundle only, so the
// unused parts of an index are dropped; better-sqlite3 (a native addon found through
// `bindings`) stays a runtime require from node_modules, which the sandbox binds read-only,
// made on the first key-value store opened (see lazySqlite below).
import { build } from 'esbuild';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = `${root}packages/plugin-manager/dist/sandbox/process`;
const entry = `${dir}/child-main.js`;
const outfile = `${dir}/sandbox-child.cjs`;
const metafile = `${dir}/sandbox-child.meta.json`;

// Up to date when the bundle is newer than every input of the last bundle.
const fresh = () => {
  if (!existsSync(outfile) || !existsSync(metafile)) return false;
  const built = statSync(outfile).mtimeMs;
  if (statSync(fileURLToPath(import.meta.url)).mtimeMs > built) return false; // this script changed
  const inputs = Object.keys(JSON.parse(readFileSync(metafile, 'utf8')).inputs);
  return inputs.every((input) => existsSync(`${root}${input}`) && statSync(`${root}${input}`).mtimeMs <= built);
};
if (!existsSync(entry)) {
  console.error(`bundle-sandbox: ${entry} is missing; run tsc -b first`);
  process.exit(1);
}
if (fresh()) process.exit(0);

const ownCode = {
  name: 'forgeone-side-effect-free',
  setup(esbuild) {
    esbuild.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'own' || args.kind === 'entry-point') return undefined;
      const result = await esbuild.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'own' });
      if (result.errors.length > 0 || result.external) return undefined;
      return /\/packages\/(common|microkernel|plugin-manager)\/dist\//.test(result.path) ? { path: result.path, sideEffects: false } : undefined;
    });
  },
};

// better-sqlite3 (a native addon and its SQLite library) serves the key-value calls alone:
// the bundle loads it on the first store opened, not at start (~1 MiB less per sandbox of
// a plugin without a store: bench/process.mjs). Only a constructor is used at run time
// (syscall/kv-store.ts: `new Database(path, options)`); its other uses are types.
const lazySqlite = {
  name: 'forgeone-lazy-sqlite',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^better-sqlite3$/ }, (args) => (args.namespace === 'lazy-sqlite' ? { path: 'better-sqlite3', external: true } : { path: 'better-sqlite3', namespace: 'lazy-sqlite' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'lazy-sqlite' }, () => ({
      loader: 'js',
      contents: "let Database; export default function LazyDatabase(...args) { Database ??= require('better-sqlite3'); return new Database(...args); }",
    }));
  },
};

// node:crypto serves a sandbox only randomness (WASI random_get, a store's keys): the
// module and the internal ones it loads cost ~0.7 MiB per sandbox at start (Node's crypto
// JS layer; OpenSSL itself is initialised by Node either way), so the bundle loads it on
// the first call that needs it. Every function node:crypto exports is offered as a
// wrapper that loads it first (modules import more than the sandbox runs; tree-shaking
// drops the rest); after the build, a wrapper the bundle kept that is not in LAZY_CRYPTO
// (a class, an instanceof, a new use) fails it.
const LAZY_CRYPTO = new Set(['randomBytes', 'randomFillSync']);
const lazyCrypto = {
  name: 'forgeone-lazy-crypto',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^(node:)?crypto$/ }, (args) => (args.namespace === 'lazy-crypto' ? { path: 'node:crypto', external: true } : { path: 'node:crypto', namespace: 'lazy-crypto' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'lazy-crypto' }, async () => {
      const names = Object.entries(await import('node:crypto')).filter(([name, value]) => typeof value === 'function' && name !== 'default').map(([name]) => name);
      return {
        loader: 'js',
        contents: [
          "let crypto; const load = () => (crypto ??= require('node:crypto'));",
          ...names.map((name) => `export function ${name}(...args) { return load().${name}(...args); } /* lazy-crypto:${name} */`),
        ].join('\n'),
      };
    });
  },
};

// CommonJS, not an ES module: an ES module entry makes Node start its ES module loader
// and libuv's thread pool (it reads the module asynchronously), which a sandbox then keeps
// idle for its whole life: ~0.6 MiB PSS and one thread more per sandbox (docs/sandbox.md,
// "Memory of an idle sandbox"). The code keeps its ES module semantics where they matter:
// `import.meta.url` is the bundle's own URL, as it was in the ES module bundle.
// The error catalog (common/dist/errors/codes/*.js) is a code -> { kind, summary } table;
// a sandbox needs each code's kind (ForgeError reads it) and never a summary (written for
// the reference docs): the bundle gets the same tables with every summary empty, generated
// from the compiled catalog itself, so no code or kind can drift (~45 KB less source and as
// many string bytes less per sandbox). A catalog file of any other shape fails the build.
const catalogKinds = {
  name: 'forgeone-catalog-kinds',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\/packages\/common\/dist\/errors\/codes\/[a-z-]+\.js$/ }, async (args) => {
      const tables = await import(pathToFileURL(args.path).href);
      const lines = Object.entries(tables).map(([name, table]) => {
        const entries = Object.entries(table).map(([code, spec]) => {
          const keys = Object.keys(spec).sort().join(',');
          if (!/^FO_[A-Z0-9_]+$/.test(code) || keys !== 'kind,summary' || typeof spec.kind !== 'string') throw new Error(`bundle-sandbox: ${args.path}: ${name}.${code} is not { kind, summary } (found keys ${keys})`);
          return `${code}:{kind:${JSON.stringify(spec.kind)},summary:''}`;
        });
        return `export const ${name}={${entries.join(',')}};`;
      });
      return { loader: 'js', contents: lines.join('\n') };
    });
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['better-sqlite3'],
  define: { 'import.meta.url': '__forgeModuleUrl' },
  banner: { js: "'use strict';const __forgeModuleUrl=require('node:url').pathToFileURL(__filename).href;" },
  plugins: [lazySqlite, lazyCrypto, catalogKinds, ownCode],
  // The source is a string in every sandbox's heap: whitespace and comments cost memory (names are kept for stacks).
  minifyWhitespace: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
writeFileSync(metafile, JSON.stringify({ inputs: Object.fromEntries(Object.entries(result.metafile.inputs).map(([path, input]) => [path, { bytes: input.bytes }])) }));
// The crypto wrappers the bundle kept (lazyCrypto above) must be functions it only calls.
const keptCrypto = [...readFileSync(outfile, 'utf8').matchAll(/function (\w+)\(\.\.\.args\)\{return load\d*\(\)\.(\w+)\(\.\.\.args\)\}/g)].map((match) => match[1]);
const unexpected = keptCrypto.filter((name) => !LAZY_CRYPTO.has(name));
if (keptCrypto.length === 0 || unexpected.length > 0) {
  console.error(`bundle-sandbox: the sandbox uses node:crypto's ${unexpected.join(', ') || '(no wrapper found: the check is out of date)'}, not known to be safe to load lazily; add it to LAZY_CRYPTO if it is only ever called`);
  unlinkSync(outfile);
  process.exit(1);
}
