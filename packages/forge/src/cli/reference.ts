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

## With a daemon and without one

When a daemon (\`forge daemon\`) answers on the configuration's \`daemon.socket\`, the commands
go through its HTTP API (docs/daemon.md); otherwise they work on the local files, with the same
output. \`FORGE_DAEMON\` changes that: \`off\` never uses a daemon; \`unix:PATH\` or
\`http://HOST:PORT\` (loopback only: a token must not cross a network in clear; reach another
host through an SSH tunnel) names one, and a daemon named so that does not answer is an error
(\`FO_DAEMON_NOT_RUNNING\`), never a silent fallback. \`FORGE_TOKEN\` is sent as the bearer token
with every request: TCP needs one, and on the socket it makes the request act with the token's
role instead of admin. A socket left behind by a daemon that was killed counts as no daemon.

| command | with a daemon | without one |
| --- | --- | --- |
| \`ps\` | the daemon's plugins with their states | the installed plugins, state \`not-loaded\`, desired state from the daemon database; a note on stderr |
| \`list\` | reads the store (the same either way) | reads the store |
| \`install\`, \`uninstall\`/\`rm\`, \`rollback\` | through the API (install uploads the package; progress on a terminal) | on the store |
| \`start\`, \`stop\`, \`pause\`, \`resume\`, \`restart\`, \`unload\`, \`logs\`, \`events\`, \`stats\` | through the API | \`FO_DAEMON_NOT_RUNNING\` (exit 9) |
| \`call\` | the plugin running in the daemon | loaded, started, called and stopped in the forge process; a note on stderr |
| \`audit tail\`, \`audit verify\` | asked of the daemon, which writes the log (unless a file flag is given) | read from the files |
| \`token create\`, \`list\`, \`revoke\` | through the API | the daemon database directly; changes audited |

The text output is the same either way; where the JSON differs the command's help says so
(\`install\` and \`rollback\` show the daemon's view of the plugin, \`audit\` the daemon's answer).
A refusal from the daemon carries its error code, so the exit status is the same as a local one's.

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
