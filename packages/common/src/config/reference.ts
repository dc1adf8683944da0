import { renderSchemaTables } from '../schema/index.js';
import { configFileSchema } from './schema.js';

/** Renders docs/reference/config.md from the configuration schema. */
export function renderConfigReference(): string {
  return `# Configuration reference: plugin-manager.yaml

<!-- Generated from packages/common/src/config/schema.ts by \`npm run gen:reference\`. Do not edit. -->

ForgeOne reads one YAML file with a single top-level \`plugin_manager\` table. Every key is
optional; an absent key takes the default below. Unknown keys and bad values are
errors that name the key's path and line (\`forge config check\` lists all of them at
once), never silently ignored.

- **Sizes** are an integer number of bytes or a number with a unit: \`K\`/\`KB\`/\`KiB\`,
  \`M\`/\`MB\`/\`MiB\`, \`G\`/\`GB\`/\`GiB\`, \`T\`/\`TB\`/\`TiB\`. All units are binary, as in Docker:
  \`512MB\` is 536,870,912 bytes.
- **Durations** are a number with a unit, \`ms\`, \`s\`, \`m\`, \`h\` or \`d\`, optionally
  compound (\`1m30s\`). A bare number is refused because it would be ambiguous.
- **Paths** that are relative are taken from the directory of the configuration file.
- **State paths** (\`plugin_directory\`, \`temp_directory\`, \`audit.path\`,
  \`audit.checkpoint_key\`): the defaults below, under \`/var/lib/forgeone\`, are root's.
  For any other user, \`forge\` puts an absent one under the user's state directory,
  \`$XDG_STATE_HOME/forgeone\` (else \`~/.local/state/forgeone\`): \`plugins/\`, \`tmp/\`,
  \`audit/audit.log\`, \`audit/checkpoint-key.pem\`. \`forge config check\` names the directory
  in use. An unknown key's error suggests the closest known one.
- YAML is read with the 1.2 core schema: \`yes\`/\`no\` are strings, booleans are \`true\`/\`false\`.
  Duplicate keys are errors.

\`forge config check [FILE] [--json]\` prints the normalised configuration (every default
filled in, sizes and durations in canonical units, paths absolute) or every problem found.

${renderSchemaTables(configFileSchema.doc(), '(file)')}`;
}
