import { renderSchemaTables } from '@forgeone/common';
import { pluginTomlSchema } from './manifest-schema.js';

/** Renders docs/reference/manifest.md from the manifest schema. */
export function renderManifestReference(): string {
  return `# Manifest reference: plugin.toml and manifest.json

<!-- Generated from packages/plugin-manager/src/plugin/manifest-schema.ts by \`npm run gen:reference\`. Do not edit. -->

A plugin describes itself in \`plugin.toml\`. \`forge pack\` validates it and writes the
canonical \`manifest.json\` into the package; signatures cover \`manifest.json\`. The two
hold the same fields: in \`plugin.toml\` the identity fields sit in a \`[plugin]\` table,
in \`manifest.json\` they are top-level keys. A package whose \`plugin.toml\` and
\`manifest.json\` disagree is refused (\`FO_PACKAGE_MANIFEST_MISMATCH\`).

Validation reports every problem at once, each with its path and what was expected
(\`FO_MANIFEST_INVALID\`). Unknown fields are errors, never ignored. Permissions default
to nothing: a plugin that declares none can compute and log, and nothing else.

\`manifest.json\` is canonical: RFC 8785 key order, no whitespace, every default filled
in, sizes as \`<n>KiB/MiB/GiB\` and durations as \`<n>ms/s/m/h\`. A package whose
\`manifest.json\` is not canonical is refused (\`FO_PACKAGE_MANIFEST_NOT_CANONICAL\`), so one
manifest has exactly one digest.

## Example

\`\`\`toml
[plugin]
name = "example-plugin"
version = "1.0.0"
description = "Example plugin for ForgeOne"
author = "ForgeOne Team"
license = "MIT"

[dependencies]
common = "^1.0.0"

[permissions]
filesystem = ["read", "write"]
network = ["connect"]
allowed_hosts = ["api.example.com"]
syscalls = ["forge.kv_get", "forge.kv_set"]
volumes = [{ name = "data", path = "/data", mode = "rw" }]

[entry_points]
init = "plugin_init"
start = "plugin_start"
stop = "plugin_stop"

[extension_points."text.format"]
description = "Formats text"

[[extensions]]
point = "host.greeter"
export = "greet"

[limits]
memory = "64MB"
timeout = "5s"
\`\`\`

## Fields

${renderSchemaTables(pluginTomlSchema.doc(), 'plugin.toml')}`;
}
