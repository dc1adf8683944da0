import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { failureOf, send } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand, type CliIo } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon, localNote, pluginPath } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { callInProcess } from './local-call.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** `{encoding: "utf8", output: text}` when the bytes are UTF-8, else `{encoding: "base64", output}`. */
export function outputJson(output: Uint8Array): { encoding: 'utf8' | 'base64'; output: string } {
  try {
    return { encoding: 'utf8', output: UTF8.decode(output) };
  } catch {
    return { encoding: 'base64', output: Buffer.from(output).toString('base64') };
  }
}

/** Writes a call's output: raw bytes to a pipe or file, escaped text to a terminal. */
function writeOutput(io: CliIo, output: Uint8Array): void {
  if (io.stdout.isTTY !== true) {
    io.stdout.write(output);
    return;
  }
  // SECURITY: the bytes are the plugin's; on a terminal they could move the cursor or rewrite the screen.
  const shown = sanitizeForTerminal(new TextDecoder().decode(output));
  io.stdout.write(shown === '' || shown.endsWith('\n') ? shown : `${shown}\n`);
}

async function inputOf(io: CliIo, inline: string | undefined, file: string | undefined): Promise<Uint8Array> {
  if (file === undefined) return new TextEncoder().encode(inline ?? '');
  if (inline !== undefined) throw new ForgeError('FO_CLI_EXTRA_ARGUMENT', 'forge call takes its input from INPUT or from --input-file, not both', { details: { argument: 'INPUT' } });
  const path = resolve(io.cwd, file);
  try {
    return await readFile(path);
  } catch (error) {
    throw fromFsError(error, 'read the call input', path);
  }
}

/** `forge call NAME FN [INPUT | --input-file FILE] [--json]` */
export const pluginCall = defineCommand({
  path: ['call'],
  summary: 'Call an export of a plugin with an input and print its output.',
  description: `${text`
    Sends INPUT (its UTF-8 bytes; nothing when absent) or the bytes of --input-file to the export FN
    of plugin NAME and writes the output to stdout: the bytes as they are when stdout is a pipe or a
    file, and escaped text when it is a terminal (a plugin's output cannot move the cursor or rewrite
    the screen). With --json it prints {"encoding": "utf8", "output": TEXT} when the output is UTF-8,
    else {"encoding": "base64", "output": BASE64}.

    With a daemon, the plugin must be running there (forge start NAME). Without one, forge loads the
    installed plugin and the installed plugins it depends on into this process, starts it, calls it,
    and stops it again, saying so on stderr, with the same verification, policy and audit log; the
    plugin's log records go to stderr.
  `}\n\n${DAEMON_HELP}`,
  flags: [{ name: 'input-file', type: 'string', value: 'FILE', description: 'Send the bytes of this file as the input instead of INPUT.' }, JSON_FLAG, CONFIG_FLAG],
  args: [
    { name: 'NAME', description: 'The plugin.', required: true },
    { name: 'FN', description: 'The export to call.', required: true },
    { name: 'INPUT', description: 'The input, as text (default: empty).' },
  ],
  examples: ['forge call hello greet World', 'forge call resize image --input-file in.png > out.png', 'forge call hello greet World --json | jq -r .output'],
  async run({ flags, args }, io) {
    const path = pluginPath(args.NAME, `/call/${encodeURIComponent(args.FN)}`);
    const input = await inputOf(io, args.INPUT, flags['input-file']);
    const cli = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, cli.config);
    let output: Uint8Array;
    if (link !== undefined) {
      const response = await send(link.target, { method: 'POST', path, bytes: input });
      const failure = failureOf(response);
      if (failure !== undefined) throw failure;
      output = new Uint8Array(response.body);
    } else {
      io.stderr.write(localNote(io, cli.config, `loading ${sanitizeForTerminal(args.NAME)} in this process for this call (started, called, stopped)`));
      output = await callInProcess(io, cli, args.NAME, args.FN, input);
    }
    if (flags.json) io.stdout.write(toSafeJson(outputJson(output)));
    else writeOutput(io, output);
  },
});
