import { resolve } from 'node:path';
import { defaultPackageName, packDirectory, packageLimitsFromConfig, writeNewFile } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';

/** `forge pack DIR [-o FILE]` */
export const pack = defineCommand({
  path: ['pack'],
  summary: 'Build a deterministic .forgepkg from a plugin directory.',
  description: text`
    Reads DIR/plugin.toml, validates it, writes the canonical manifest.json and packs it with the
    entry module (plugin.wasm by default) and DIR/assets/. Other files in DIR are not packed.
    The same inputs always give a byte-identical package. Prints the package path to stdout.
  `,
  flags: [
    { name: 'out', short: 'o', type: 'string', value: 'FILE', description: 'Where to write the package (default: ./<name>-<version>.forgepkg).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'DIR', description: 'The plugin directory (holds plugin.toml).', required: true }],
  examples: ['forge pack examples/sample-plugin -o sample.forgepkg'],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const result = await packDirectory(resolve(io.cwd, args.DIR), packageLimitsFromConfig(config.package_limits));
    const { manifest, digest, files } = result.contents;
    const file = resolve(io.cwd, flags.out ?? defaultPackageName(manifest));
    await writeNewFile(file, result.bytes, { overwrite: true });
    if (flags.json) {
      io.stdout.write(toSafeJson({ file, size: result.bytes.length, fileDigest: result.fileDigest, digest, name: manifest.name, version: manifest.version, files }));
      return;
    }
    io.stderr.write(
      `packed ${sanitizeForTerminal(manifest.name)} ${manifest.version}: ${files.length} files, ${result.bytes.length} bytes, content digest ${digest}\n`,
    );
    io.stdout.write(`${sanitizeForTerminal(file)}\n`);
  },
});
