/**
 * forgeone: the `forge` CLI as a library, for embedding and tests. The executable is
 * dist/bin.js.
 */
export { runCli } from './cli/main.js';
export { COMMANDS } from './cli/commands/index.js';
export { defineCommand, usageLine, type ArgSpec, type ArgValue, type CliIo, type Command, type CommandInput, type FlagSpec, type FlagValue } from './cli/command.js';
export { renderCliReference } from './cli/reference.js';
export { daemonOpenApi, renderHttpReference } from './daemon/reference.js';
export { sanitizeForTerminal, toSafeJson } from './cli/terminal.js';
export { FORGE_VERSION } from './version.js';
