// The public API report (docs/reference/api.md), in the spirit of api-extractor's: every
// entry point in each workspace package's `exports` map, the names it exports and their
// kinds, read from the built declaration files with TypeScript's checker and from the
// built JavaScript at run time. A change to the surface changes the report, and
// `npm run check` fails until the report is regenerated, so widening or narrowing the
// API is always a deliberate, reviewed change.
//
// Two consistency rules make the report trustworthy rather than decorative:
// - every runtime export is a value in the declarations and every declared value exists
//   at run time (a name in one but not the other is an error, not a line in the report);
// - a type that a public declaration mentions must itself be public (exported from some
//   entry point of some workspace package); the report lists any that are not under
//   "Referenced but not exported" (api-extractor's "forgotten export").
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');

/**
 * The public entry points of the workspace packages under `root`/packages, in package
 * order (directory name), each `{ pkg, dir, subpath, specifier, types, js }`.
 * `./package.json` is metadata, not API, and is left out.
 */
export function publicEntryPoints(root) {
  const entries = [];
  const packagesDir = join(root, 'packages');
  for (const dir of readdirSync(packagesDir).sort()) {
    const manifestPath = join(packagesDir, dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (subpath === './package.json') continue;
      if (typeof target !== 'object' || target === null || typeof target.types !== 'string' || typeof target.default !== 'string') {
        throw new Error(`${manifest.name}: exports["${subpath}"] must name "types" and "default" files`);
      }
      entries.push({
        pkg: manifest.name,
        dir,
        subpath,
        specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
        types: join(packagesDir, dir, target.types),
        js: join(packagesDir, dir, target.default),
      });
    }
  }
  return entries;
}

const KINDS = [
  [ts.SymbolFlags.Class, 'class'],
  [ts.SymbolFlags.Enum, 'enum'],
  [ts.SymbolFlags.Function, 'function'],
  [ts.SymbolFlags.Variable, 'const'],
  [ts.SymbolFlags.Interface, 'interface'],
  [ts.SymbolFlags.TypeAlias, 'type'],
  [ts.SymbolFlags.Namespace, 'namespace'],
];

// A name can carry two meanings (`const X` beside `type X`); the report names both.
function kindOf(symbol) {
  const kinds = KINDS.filter(([flag]) => (symbol.flags & flag) !== 0).map(([, name]) => name);
  if (kinds.includes('class')) return 'class';
  if (kinds.includes('enum')) return 'enum';
  return kinds.join(' + ') || 'unknown';
}

function resolved(checker, symbol) {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/**
 * Reads every entry point: `{ entries: [{ ...entry, names: [{ name, kind, runtime }] }],
 * forgotten: [{ pkg, name, file, referencedBy }] }`. Throws when the declarations and the
 * runtime module disagree about a value.
 */
export async function readApi(root) {
  const entries = publicEntryPoints(root);
  const program = ts.createProgram(
    entries.map((entry) => entry.types),
    {
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();
  const publicSymbols = new Set();
  const problems = [];
  const results = [];
  for (const entry of entries) {
    const file = program.getSourceFile(entry.types);
    if (file === undefined) throw new Error(`${entry.specifier}: ${entry.types} does not exist (run the build first)`);
    // An entry point names what it exports; `export *` would let internals leak in
    // unnoticed, so it is refused here rather than reported.
    if (file.statements.some((statement) => ts.isExportDeclaration(statement) && statement.exportClause === undefined)) {
      problems.push(`${entry.specifier}: ${relative(root, entry.types)} re-exports a whole module (export *); list the names`);
    }
    const moduleSymbol = checker.getSymbolAtLocation(file);
    const exported = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
    const runtime = new Set(Object.keys(await import(pathToFileURL(entry.js).href)));
    const names = [];
    for (const symbol of exported) {
      const target = resolved(checker, symbol);
      publicSymbols.add(target);
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
      const name = symbol.getName();
      if (isValue && !runtime.has(name)) problems.push(`${entry.specifier}: ${name} is declared as a value but missing at run time`);
      names.push({ name, kind: kindOf(target), runtime: runtime.has(name) });
      runtime.delete(name);
    }
    for (const name of runtime) problems.push(`${entry.specifier}: ${name} exists at run time but is not declared`);
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    results.push({ ...entry, names });
  }
  if (problems.length > 0) throw new Error(`the public entry points are inconsistent:\n  ${problems.join('\n  ')}`);
  return { entries: results, forgotten: forgottenExports(root, program, checker, publicSymbols) };
}

// Walks the declarations of every public symbol, and of every workspace type they mention
// that is not public, collecting the latter. Private class members carry no types in .d.ts
// files, so only what a caller can reach is walked.
function forgottenExports(root, program, checker, publicSymbols) {
  const packagesDir = join(root, 'packages') + sep;
  const inWorkspace = (declaration) => declaration.getSourceFile().fileName.startsWith(packagesDir);
  const found = new Map();
  const queue = [...publicSymbols].map((symbol) => ({ symbol, from: symbol.getName() }));
  const seen = new Set(publicSymbols);
  const mention = (node, from) => {
    let symbol;
    if (ts.isTypeReferenceNode(node)) symbol = checker.getSymbolAtLocation(node.typeName);
    else if (ts.isExpressionWithTypeArguments(node)) symbol = checker.getSymbolAtLocation(node.expression);
    else if (ts.isTypeQueryNode(node)) symbol = checker.getSymbolAtLocation(node.exprName);
    else if (ts.isImportTypeNode(node) && node.qualifier !== undefined) symbol = checker.getSymbolAtLocation(node.qualifier);
    if (symbol === undefined) return;
    symbol = resolved(checker, symbol);
    if (symbol.flags & ts.SymbolFlags.TypeParameter || seen.has(symbol)) return;
    const declarations = symbol.getDeclarations() ?? [];
    if (declarations.length === 0 || !declarations.every(inWorkspace)) return;
    seen.add(symbol);
    const file = relative(root, declarations[0].getSourceFile().fileName).split(sep).join('/');
    found.set(symbol, { name: symbol.getName(), file, referencedBy: from });
    queue.push({ symbol, from: symbol.getName() });
  };
  while (queue.length > 0) {
    const { symbol, from } = queue.shift();
    for (const declaration of symbol.getDeclarations() ?? []) {
      if (!inWorkspace(declaration)) continue;
      const visit = (node) => {
        // A member the .d.ts marks private exposes only its name.
        if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
        mention(node, from);
        ts.forEachChild(node, visit);
      };
      visit(declaration);
    }
  }
  return [...found.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.name < b.name ? -1 : 1));
}

/** Renders the report as Markdown. */
export function renderApiReport({ entries, forgotten }) {
  const lines = [
    '# Public API',
    '',
    '<!-- Generated from the packages\' exports maps and built declarations by `npm run gen:reference`. Do not edit. -->',
    '',
    'Every name each package entry point exports, with its kind. Anything not listed here is',
    'internal and may change without notice; docs/architecture.md ("Public API") says what each',
    'entry point is for. `npm run check` fails when this file and the built packages disagree,',
    'so a change to the surface is always deliberate: rebuild, run `npm run gen:reference`, and',
    'review the diff.',
    '',
    '| entry point | names | values (at run time) |',
    '| --- | --- | --- |',
    ...entries.map((entry) => `| \`${entry.specifier}\` | ${entry.names.length} | ${entry.names.filter((n) => n.runtime).length} |`),
  ];
  for (const entry of entries) {
    lines.push('', `## \`${entry.specifier}\``, '', '| name | kind |', '| --- | --- |');
    for (const { name, kind } of entry.names) lines.push(`| \`${name}\` | ${kind} |`);
  }
  lines.push('', '## Referenced but not exported', '');
  if (forgotten.length === 0) {
    lines.push('None: every workspace type a public declaration mentions is itself public.');
  } else {
    lines.push(
      'Types that public declarations mention but no entry point exports. Callers can use',
      'them only by inference; each should be exported or dropped from the public signature.',
      '',
      '| name | declared in | mentioned by |',
      '| --- | --- | --- |',
      ...forgotten.map((f) => `| \`${f.name}\` | ${f.file} | \`${f.referencedBy}\` |`),
    );
  }
  return `${lines.join('\n')}\n`;
}
