import { ForgeError } from '@forgeone/common';
import { openStream, serverEvents } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_ONLY_HELP, requireDaemon } from '../../daemon-link.js';
import { badFlagValue } from '../../flag-value.js';
import { text } from '../../help-text.js';
import { sanitizeLine, toSafeJsonLine } from '../../terminal.js';
import { EVENT_TYPES, formatEvent } from './event-format.js';

/** `--types lifecycle,plugin` (repeatable, comma-separated) as the list to ask for; empty: every type. */
function parseTypes(values: readonly string[]): string[] {
  const types = values.flatMap((value) => value.split(',')).map((type) => type.trim());
  for (const type of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw badFlagValue('types', `event types among ${EVENT_TYPES.join(', ')}`, type);
  }
  return [...new Set(types)];
}

function parseData(event: string, data: string): Record<string, unknown> {
  if (data === '') return {};
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon sent a ${sanitizeLine(event.slice(0, 40))} event whose data is not a JSON object`, { details: { reason: 'malformed event stream' } });
}

/** `forge events [--types T,...] [--json]` */
export const daemonEvents = defineCommand({
  path: ['events'],
  summary: 'Follow the daemon\'s live events: lifecycle changes, plugin events, audit records.',
  description: `${text`
    Prints each event as it happens, one line each, until interrupted (Ctrl-C) or until the daemon
    stops: lifecycle (a plugin moving from one state to another, with the step and any error),
    plugin (an event a plugin emitted with forge.emit_event: its name and payload, shown as text when
    it is UTF-8, else as base64:...), and audit (each audit record as it is written). Every field is
    printed escaped. With --json each event is one line of JSON: {"event": TYPE, "data": {...}}, as
    the daemon sends it (plugin payloads stay base64).

    A reader that falls too far behind is dropped by the daemon: forge then fails with
    FO_DAEMON_STREAM_OVERFLOW (exit 8), since events were lost.
  `}\n\n${DAEMON_ONLY_HELP}`,
  flags: [
    { name: 'types', type: 'strings', value: 'T,...', description: `Only these event types: ${EVENT_TYPES.join(', ')} (comma-separated or repeated; default: all).` },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [],
  examples: ['forge events', 'forge events --types lifecycle,audit', 'forge events --types plugin --json | jq -r .data.name'],
  async run({ flags }, io) {
    const types = parseTypes(flags.types);
    const { config } = await loadCliConfig(io, flags.config);
    const link = await requireDaemon(io, config, 'events');
    const signal = io.signal;
    // A function, so each check reads the signal anew (it is aborted from outside).
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return 0;
    let stream;
    try {
      stream = await openStream(link.target, { method: 'GET', path: `/v1/events${types.length === 0 ? '' : `?types=${types.join(',')}`}`, ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      if (aborted()) return 0;
      throw error;
    }
    for await (const { event, data } of serverEvents(stream.lines)) {
      const parsed = parseData(event, data);
      if (event === 'overflow') {
        // The daemon's data is its error body; what it says is escaped when printed, like every refusal.
        const { error } = parsed as { error?: unknown };
        throw typeof error === 'object' && error !== null
          ? ForgeError.fromJSON(error)
          : new ForgeError('FO_DAEMON_STREAM_OVERFLOW', 'this reader fell too far behind the daemon\'s events and the daemon ended the stream; events after that point were lost', { details: { stream: 'events' } });
      }
      io.stdout.write(flags.json ? toSafeJsonLine({ event, data: parsed }) : `${formatEvent(event, parsed)}\n`);
    }
    if (!aborted()) io.stderr.write('forge: the daemon ended the event stream\n');
    return 0;
  },
});
