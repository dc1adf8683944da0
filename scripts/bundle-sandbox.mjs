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

// Built-ins a sandbox needs rarely load on first use. node:crypto serves it randomness
// alone (WASI random_get, a store's keys): its JS layer costs ~0.5 MiB per sandbox at start
// (OpenSSL itself is initialised by Node either way). node:worker_threads serves only the
// I/O bridge of a pool worker, which a sandbox never starts (it forwards HTTP to its host;
// its loop's port is in-thread: process/child.ts): ~0.4 MiB. Every export of the module is
// offered as a wrapper that loads it first (modules import more than the sandbox runs; tree-
// shaking drops the rest): a function is called through, a class constructed through, and
// a plain value cannot be lazy. After the build, a wrapper the bundle kept that LAZY does
// not list for its use fails it, so nothing can behave differently at run time.
const LAZY = {
  'node:crypto': { call: ['randomBytes', 'randomFillSync'], construct: [] },
  'node:worker_threads': { call: ['receiveMessageOnPort'], construct: ['Worker', 'MessageChannel'] },
};
const lazyBuiltins = {
  name: 'forgeone-lazy-builtins',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^(node:)?(crypto|worker_threads)$/ }, (args) => {
      const path = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      return args.namespace === 'lazy-builtin' ? { path, external: true } : { path, namespace: 'lazy-builtin' };
    });
    esbuild.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const exported = Object.entries(await import(args.path)).filter(([name]) => name !== 'default' && /^[A-Za-z_$][\w$]*$/.test(name));
      const kind = (name, value) => (typeof value !== 'function' ? 'Value' : /^[A-Z]/.test(name) ? 'New' : 'Call');
      return {
        loader: 'js',
        contents: [
          `let loaded; const load = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
          'const __lazyCall = (_module, name) => (...args) => load()[name](...args);',
          'const __lazyNew = (_module, name) => new Proxy(function () {}, { construct: (_target, args) => Reflect.construct(load()[name], args) });',
          'const __lazyValue = () => undefined;',
          ...exported.map(([name, value]) => `export const ${name} = /* @__PURE__ */ __lazy${kind(name, value)}(${JSON.stringify(args.path)}, ${JSON.stringify(name)});`),
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
  plugins: [lazySqlite, lazyBuiltins, catalogKinds, ownCode],
  // The source is a string in every sandbox's heap: whitespace and comments cost memory (names are kept for stacks).
  minifyWhitespace: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
writeFileSync(metafile, JSON.stringify({ inputs: Object.fromEntries(Object.entries(result.metafile.inputs).map(([path, input]) => [path, { bytes: input.bytes }])) }));
// The lazy wrappers the bundle kept (lazyBuiltins above) must be uses LAZY lists.
const kept = [...readFileSync(outfile, 'utf8').matchAll(/__lazy(Call|New|Value)\d*\("(node:\w+)","(\w+)"\)/g)].map(([, use, module, name]) => ({ use, module, name }));
const unexpected = kept.filter(({ use, module, name }) => !(LAZY[module]?.[use === 'Call' ? 'call' : 'construct'] ?? []).includes(name) || use === 'Value');
if (kept.length === 0 || unexpected.length > 0) {
  const list = unexpected.map(({ use, module, name }) => `${module} ${name} (${use === 'Value' ? 'a value' : use === 'New' ? 'constructed' : 'called'})`).join(', ');
  console.error(`bundle-sandbox: the sandbox uses ${list || '(no lazy wrapper found: the check is out of date)'}, not listed in LAZY as safe to load on first use`);
  unlinkSync(outfile);
  process.exit(1);
}
