import { resolve } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { LANGUAGES, scaffold, type Language } from './scaffold.js';

/** `forge init NAME [--lang c|rust|assemblyscript] [--dir DIR]` */
export const init = defineCommand({
  path: ['init'],
  summary: 'Create a plugin project that builds, packs and tests out of the box, in C, Rust or AssemblyScript.',
  description: text`
    Writes a new project into DIR (default ./NAME), which must not exist or be empty: plugin.toml
    (asking for no permissions), the source of a plugin exporting hello (greets by name, refuses an
    empty one with the code E_EMPTY) and an init entry point, the language's PDK copied into pdk/,
    build.mjs, package.json and test/plugin.test.mjs. The project is written in a staging directory
    and renamed into place, so a failure leaves nothing behind.

    In the project, npm test builds plugin.wasm, then lints, packs, signs it with a throwaway
    certificate, installs it into a store in a temporary directory and calls it, all with the forge
    CLI that ran forge init (FORGE_CLI names another). AssemblyScript projects need npm install
    first, for the compiler.
  `,
  flags: [
    { name: 'lang', short: 'l', type: 'string', value: 'LANG', description: `The plugin's language: ${LANGUAGES.join(', ')} (default: c).` },
    { name: 'dir', short: 'd', type: 'string', value: 'DIR', description: 'Where to write the project (default: ./NAME).' },
    JSON_FLAG,
  ],
  args: [{ name: 'NAME', description: 'The plugin name: 1-64 of a-z 0-9 . _ -, starting and ending with a letter or digit.', required: true }],
  examples: ['forge init hello', 'forge init thumbnails --lang rust', 'forge init greeter --lang assemblyscript --dir plugins/greeter'],
  async run({ flags, args }, io) {
    const language = languageOf(flags.lang);
    const directory = resolve(io.cwd, flags.dir ?? args.NAME);
    const made = await scaffold(directory, args.NAME, language);
    if (flags.json) {
      io.stdout.write(toSafeJson({ directory: made.directory, language: made.language, files: made.files, next: made.next }));
      return;
    }
    io.stderr.write(`created a ${language} plugin project in ${sanitizeForTerminal(made.directory)} (needs ${made.toolchain}); next:\n`);
    io.stderr.write(`  cd ${sanitizeForTerminal(flags.dir ?? args.NAME)}\n${made.next.map((step) => `  ${step}\n`).join('')}`);
    io.stdout.write(`${made.directory}\n`);
  },
});

/** @throws ForgeError FO_CLI_FLAG_VALUE for a language forge init does not know */
function languageOf(value: string | undefined): Language {
  if (value === undefined) return 'c';
  const language = LANGUAGES.find((known) => known === value);
  if (language === undefined) throw new ForgeError('FO_CLI_FLAG_VALUE', `--lang must be one of ${LANGUAGES.join(', ')}; got ${JSON.stringify(value)}`, { details: { flag: 'lang', value } });
  return language;
}
