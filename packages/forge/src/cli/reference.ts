import { COMMANDS } from './commands/index.js';
import { renderCommandHelp, exitStatusRows } from './help.js';

/** Renders docs/reference/cli.md from the command specs: every command's help and the exit statuses. */
export function renderCliReference(): string {
  const sections = COMMANDS.map((command) => `## forge ${command.path.join(' ')}\n\n\`\`\`text\n${renderCommandHelp(command)}\`\`\`\n`);
  return `# CLI reference: forge

<!-- Generated from packages/forge/src/cli by \`npm run gen:reference\`. Do not edit. -->

\`forge <command> [flags] [arguments]\`. Data goes to stdout, diagnostics to stderr, so
\`forge inspect x.forgepkg --json | jq\` works. Every command that reads data takes \`--json\`;
with \`--json\`, a failure also prints \`{"error": {"code", "kind", "message", "details"}}\`
to stdout. Text that comes from packages (names, descriptions, file names) is printed
with control and bidirectional characters escaped.

Flags take their value as \`--flag value\` or \`--flag=value\`; \`--\` ends the flags.
\`forge help <command>\` and \`forge <command> --help\` print the same help and exit 0;
\`forge\` alone, or a group alone (\`forge ca\`), prints the help too but exits 2 (usage),
since the command line is incomplete.

Without a configuration file naming them, installed plugins and the audit log live
under the state directory: \`$XDG_STATE_HOME/forgeone\` (else \`~/.local/state/forgeone\`),
or \`/var/lib/forgeone\` for root. \`forge config check\` prints the one in use.

## Exit status

The exit status is set by the kind of the error (see [errors.md](errors.md)):

| status | meaning |
| --- | --- |
${exitStatusRows().map(([status, meaning]) => `| ${status} | ${meaning} |`).join('\n')}

Set \`FORGE_DEBUG=1\` to print a stack trace with internal errors. In a checkout where
\`npm run build\` has not run yet, the \`forge\` command npm links (packages/forge/bin/forge.js)
exits 9 with \`FO_CLI_NOT_BUILT\`.

${sections.join('\n')}`;
}
