/**
 * `forge start|stop|pause|resume|restart|unload NAME`: lifecycle actions, which only a
 * running daemon can take (a plugin lives only as long as the process hosting it).
 */
import { call } from '../../../daemon/client.js';
import type { LifecycleAction } from '../../../daemon/service.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand, type Command } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_ONLY_HELP, pluginPath, requireDaemon } from '../../daemon-link.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import type { PluginView } from './views.js';

/** The summary and what the action does, for the help. */
const ACTIONS: readonly (readonly [Exclude<LifecycleAction, 'load'>, string, string])[] = [
  ['start', 'Start an installed plugin (its dependencies first).', 'Loads the plugin if needed (verifying it again), then starts it and the plugins it depends on. The daemon starts it again when it restarts.'],
  ['stop', 'Stop a plugin (the plugins that depend on it first).', 'Stops the plugin after the running plugins that depend on it; it stays loaded, and the daemon leaves it stopped when it restarts.'],
  ['pause', 'Pause a running plugin.', 'Calls made while it is paused wait for resume, up to their time limit. The daemon brings it back paused when it restarts.'],
  ['resume', 'Resume a paused plugin.', 'Calls that waited go on.'],
  ['restart', 'Stop and start a plugin again.', 'Loads it first if needed; a plugin that is not running is started.'],
  ['unload', 'Stop and unload a plugin; it stays installed.', 'Frees what the plugin holds; forge start loads it again. The daemon leaves it stopped when it restarts.'],
];

function lifecycleCommand(action: Exclude<LifecycleAction, 'load'>, summary: string, detail: string): Command {
  return defineCommand({
    path: [action],
    summary,
    description: `${detail} Prints the plugin's state afterwards (with --json, the plugin as forge ps --json shows it).\n\n${DAEMON_ONLY_HELP}`,
    flags: [JSON_FLAG, CONFIG_FLAG],
    args: [{ name: 'NAME', description: `The plugin to ${action}.`, required: true }],
    examples: [`forge ${action} hello`],
    async run({ flags, args }, io) {
      const path = pluginPath(args.NAME, `/${action}`);
      const { config } = await loadCliConfig(io, flags.config);
      const link = await requireDaemon(io, config, action);
      const view = await call<PluginView>(link.target, { method: 'POST', path });
      if (flags.json) {
        io.stdout.write(toSafeJson(view));
        return;
      }
      const state = sanitizeForTerminal(view.state);
      const desired = sanitizeForTerminal(view.desired);
      io.stdout.write(`${sanitizeForTerminal(view.name)}: ${state}${desired === state ? '' : ` (brought back ${desired} when the daemon restarts)`}\n`);
    },
  });
}

/** The lifecycle commands, in the order the help lists them. */
export const LIFECYCLE_COMMANDS: readonly Command[] = ACTIONS.map(([action, summary, detail]) => lifecycleCommand(action, summary, detail));
