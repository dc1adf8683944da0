import { ForgeError } from '@forgeone/common';
import { openStream } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_ONLY_HELP, pluginPath, requireDaemon } from '../../daemon-link.js';
import { badFlagValue } from '../../flag-value.js';
import { text } from '../../help-text.js';
import { formatLogRecord, logRecordJson, type PluginLogRecord } from './log-format.js';

/** Most records one request may ask for (the API's bound). */
const MAX_LINES = 10_000;

function parseLimit(value: string | undefined): number {
  if (value === undefined) return 100;
  const count = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 0 && count <= MAX_LINES)) throw badFlagValue('lines', `a whole number from 0 to ${MAX_LINES}`, value);
  return count;
}

/**
 * One NDJSON line of the daemon's answer: a record, or undefined for a keep-alive (`{}`).
 * @throws ForgeError the error a last line carries (FO_DAEMON_STREAM_OVERFLOW when this
 *   reader fell behind), FO_DAEMON_UNREACHABLE for a line that is no record
 */
function parseRecord(line: string): PluginLogRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new ForgeError('FO_DAEMON_UNREACHABLE', 'the daemon sent a log line that is not JSON', { details: { reason: 'malformed log stream' } });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ForgeError('FO_DAEMON_UNREACHABLE', 'the daemon sent a log line that is not a record', { details: { reason: 'malformed log stream' } });
  }
  if (Object.keys(parsed).length === 0) return undefined;
  const { error } = parsed as { error?: unknown };
  if (typeof error === 'object' && error !== null) throw ForgeError.fromJSON(error);
  return parsed as PluginLogRecord;
}

/** `forge logs [-f] [-n N] NAME [--json]` */
export const pluginLogs = defineCommand({
  path: ['logs'],
  summary: 'Show a plugin\'s recent log records, and with -f follow new ones.',
  description: `${text`
    Prints the newest records the daemon keeps for the plugin (daemon.log_buffer of them), oldest
    first: time, level, message and fields. The message and fields are the plugin's own text, so
    control characters and newlines in them are printed escaped. With --json each record is one
    line of JSON: {"plugin", "time", "level", "message", "fields"}.

    With -f it keeps printing records as the plugin writes them until interrupted (Ctrl-C), or
    until the daemon stops. A reader that falls too far behind is dropped by the daemon: forge then
    fails with FO_DAEMON_STREAM_OVERFLOW (exit 8), since records were lost.
  `}\n\n${DAEMON_ONLY_HELP}`,
  flags: [
    { name: 'follow', short: 'f', type: 'boolean', description: 'Keep printing new records as they come.' },
    { name: 'lines', short: 'n', type: 'string', value: 'N', description: 'Show the newest N records first, 0 to 10000 (default 100; with -f, 0 shows only new ones).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'NAME', description: 'The plugin whose logs to show.', required: true }],
  examples: ['forge logs hello', 'forge logs -f -n 10 hello', 'forge logs hello --json | jq -r .message'],
  async run({ flags, args }, io) {
    const limit = parseLimit(flags.lines);
    const path = pluginPath(args.NAME, `/logs?limit=${limit}&follow=${flags.follow}`);
    const { config } = await loadCliConfig(io, flags.config);
    const link = await requireDaemon(io, config, 'logs');
    const signal = io.signal;
    // A function, so each check reads the signal anew (it is aborted from outside).
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return 0;
    let stream;
    try {
      stream = await openStream(link.target, { method: 'GET', path, ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      if (aborted()) return 0;
      throw error;
    }
    for await (const line of stream.lines) {
      if (line === '') continue;
      const record = parseRecord(line);
      if (record === undefined) continue;
      io.stdout.write(flags.json ? logRecordJson(record) : `${formatLogRecord(record, false)}\n`);
    }
    if (flags.follow && !aborted()) io.stderr.write('forge: the daemon ended the log stream\n');
    return 0;
  },
});
