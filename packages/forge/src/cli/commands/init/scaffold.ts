/**
 * `forge init`'s work: a plugin project written from the templates in packages/forge/templates
 * and the language's PDK (copied into dist/pdk by the build), into a staging directory that is
 * renamed into place at the end, so a failure leaves nothing half-made.
 */
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '@forgeone/common';
import { PLUGIN_NAME } from '@forgeone/plugin-manager';

/** The languages `forge init --lang` knows. */
export const LANGUAGES = ['c', 'rust', 'assemblyscript'] as const;
/** One of {@link LANGUAGES}. */
export type Language = (typeof LANGUAGES)[number];

/** What differs between languages: the PDK folder, the manifest's memory limit, package.json, the next steps. */
interface LanguageSpec {
  /** The linear memory the plugin's runtime needs (a plugin.toml size). */
  readonly memory: string;
  readonly devDependencies: Readonly<Record<string, string>>;
  /** Commands a user runs in the new directory, in order. */
  readonly next: readonly string[];
  readonly toolchain: string;
}

const SPECS: Readonly<Record<Language, LanguageSpec>> = {
  c: { memory: '1MB', devDependencies: {}, next: ['npm test'], toolchain: 'clang, lld and wasi-libc (Debian: clang lld wasi-libc libclang-rt-14-dev-wasm32)' },
  rust: { memory: '4MB', devDependencies: {}, next: ['npm test'], toolchain: 'rustc with the wasm32-wasi standard library (Debian: rustc libstd-rust-dev-wasm32)' },
  assemblyscript: { memory: '1MB', devDependencies: { '@forgeone/pdk': 'file:pdk', assemblyscript: '^0.28.20' }, next: ['npm install', 'npm test'], toolchain: 'the assemblyscript compiler, from npm (npm install)' },
};

/** Where the templates and the copied PDKs are, beside the compiled CLI. */
const TEMPLATES = fileURLToPath(new URL('../../../../templates/', import.meta.url));
const PDKS = fileURLToPath(new URL('../../../pdk/', import.meta.url));
/** The forge CLI that runs this code: the project's test uses it unless FORGE_CLI says otherwise. */
export const FORGE_CLI = fileURLToPath(new URL('../../../../bin/forge.js', import.meta.url));

/** What {@link scaffold} made. */
export interface Scaffolded {
  readonly directory: string;
  readonly language: Language;
  /** Every file written, relative to the directory, sorted. */
  readonly files: readonly string[];
  readonly next: readonly string[];
  readonly toolchain: string;
}

/**
 * Checks a plugin name as the manifest would, so the project packs as generated.
 * @throws ForgeError FO_CLI_ARGUMENT_VALUE naming what a plugin name may hold
 */
export function checkPluginName(name: string): void {
  if (!PLUGIN_NAME.test(name)) {
    throw new ForgeError('FO_CLI_ARGUMENT_VALUE', `NAME must be a plugin name: 1-64 of a-z 0-9 . _ -, starting and ending with a letter or digit; got ${JSON.stringify(name)}`, { details: { argument: 'NAME', value: name } });
  }
}

/**
 * Writes a new plugin project for `name` in `language` at `directory`, which must not exist
 * or be empty.
 * @throws ForgeError FO_CLI_ARGUMENT_VALUE for a bad name; FO_IO_EXISTS when `directory` holds
 *   anything; FO_CLI_NOT_BUILT when the PDK was not copied by the build
 */
export async function scaffold(directory: string, name: string, language: Language, forgeCli = FORGE_CLI): Promise<Scaffolded> {
  checkPluginName(name);
  const spec = SPECS[language];
  const empty = await emptyOrAbsent(directory);
  const pdk = join(PDKS, language);
  if (!(await exists(pdk))) throw new ForgeError('FO_CLI_NOT_BUILT', `the ${language} PDK is not at ${pdk}; run npm run build`);
  await mkdir(dirname(directory), { recursive: true });
  const staging = await mkdtemp(join(dirname(directory), `.${basename(directory)}.init-`));
  try {
    const values: Record<string, string> = { name, crate: name.replace(/[.-]/g, '_'), memory: spec.memory, forge_cli: JSON.stringify(forgeCli).slice(1, -1) };
    await copyTemplates(join(TEMPLATES, 'common'), staging, values);
    await copyTemplates(join(TEMPLATES, language), staging, values);
    await cp(pdk, join(staging, 'pdk'), { recursive: true });
    await writeFile(join(staging, 'package.json'), `${JSON.stringify(packageJson(name, spec), null, 2)}\n`);
    await writeFile(join(staging, 'README.md'), readme(name, language, spec));
    // mkdtemp made it 0700; a project directory is as readable as any other the user makes.
    await chmod(staging, 0o755);
    if (empty) await rmdir(directory);
    await rename(staging, directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { directory, language, files: (await listFiles(directory)).sort(), next: spec.next, toolchain: spec.toolchain };
}

/** Copies a template folder, filling {{placeholders}}; a file named `gitignore` becomes `.gitignore` (npm drops dotfiles from packages). */
async function copyTemplates(from: string, to: string, values: Readonly<Record<string, string>>): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const target = join(to, entry.name === 'gitignore' ? '.gitignore' : entry.name);
    if (entry.isDirectory()) {
      await mkdir(target, { recursive: true });
      await copyTemplates(join(from, entry.name), target, values);
      continue;
    }
    const text = await readFile(join(from, entry.name), 'utf8');
    await writeFile(target, text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole));
  }
}

function packageJson(name: string, spec: LanguageSpec): object {
  return {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { build: 'node build.mjs', test: 'node build.mjs && node --test test/' },
    ...(Object.keys(spec.devDependencies).length > 0 ? { devDependencies: spec.devDependencies } : {}),
  };
}

function readme(name: string, language: Language, spec: LanguageSpec): string {
  const guide = language === 'assemblyscript' ? 'assemblyscript' : language;
  return `# ${name}

A ForgeOne plugin in ${language === 'c' ? 'C' : language === 'rust' ? 'Rust' : 'AssemblyScript'}, made by \`forge init\`.

- Needs ${spec.toolchain}.
- \`npm run build\` compiles it into \`plugin.wasm\`.
- \`npm test\` builds it, then lints, packs, signs (with a throwaway certificate), installs and
  calls it with the forge CLI (\`test/plugin.test.mjs\`; \`FORGE_CLI\` names another forge).
- \`forge pack . -o ${name}.forgepkg\` makes the package to sign and ship.

\`pdk/\` is ForgeOne's ${language} plugin development kit, copied here so the project builds on
its own. \`plugin.toml\` asks for no permissions; add what the plugin needs as it grows.
Guides: docs/guide/${guide}.md, docs/guide/permissions.md, docs/guide/publishing.md,
docs/guide/testing.md in the ForgeOne repository.
`;
}

/** True when `directory` exists and is empty (so it can be replaced), false when absent. */
async function emptyOrAbsent(directory: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new ForgeError('FO_IO_EXISTS', `${directory} exists and is not a directory`, { details: { path: directory } });
    throw error;
  }
  if (entries.length > 0) throw new ForgeError('FO_IO_EXISTS', `${directory} is not empty (${entries.length} entries); forge init writes a new project only into an absent or empty directory`, { details: { path: directory } });
  return true;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)));
    else out.push(relative(root, path));
  }
  return out;
}
