import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { createJsonLogger } from '@forgeone/plugin-manager';
import { startDaemon } from '../../../daemon/daemon.js';
import { FORGE_VERSION } from '../../../version.js';
import { CONFIG_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal } from '../../terminal.js';

/** The principal of socket callers: the user the daemon runs as. */
function socketUser(): string {
  try {
    return `user:${userInfo().username}`;
  } catch {
    return `user:uid-${process.geteuid?.() ?? 'unknown'}`;
  }
}

/** `forge daemon [--config FILE]` */
export const daemonRun = defineCommand({
  path: ['daemon'],
  summary: 'Run the host as a service: the plugin store and its plugins behind an authenticated, audited HTTP API.',
  description: text`
    Serves the API on the unix socket daemon.socket (mode 0600: the daemon's own user is admin there)
    and, when daemon.listen names a loopback HOST:PORT, over TCP with bearer tokens (forge token create).
    Every request is authorised by role (viewer, operator, admin) and audited. At start the daemon
    loads every installed plugin and brings back those that were running when it stopped.

    Stops on SIGTERM or SIGINT: no new requests, the ones in flight finish, plugins stop (dependents
    first), the audit log is flushed and checkpointed, and forge exits 0. A second daemon on the same
    state is refused (FO_DAEMON_RUNNING, exit 7). Logs are JSON lines on stderr. docs/daemon.md has the rest.
  `,
  flags: [CONFIG_FLAG],
  args: [],
  examples: ['forge daemon', 'forge daemon --config /etc/forgeone/plugin-manager.yaml'],
  async run({ flags }, io) {
    const { config, file } = await loadCliConfig(io, flags.config);
    // JSON lines (pino) on stderr; stdout stays free for what a supervisor may parse.
    const logger = createJsonLogger(config.telemetry, { destination: 2, base: { service: 'forge-daemon' } });
    const daemon = await startDaemon({ config, configDir: file === undefined ? io.cwd : dirname(file), logger, version: FORGE_VERSION, socketUser: socketUser() });
    io.stderr.write(`forge daemon: serving ${sanitizeForTerminal(daemon.socket)}${daemon.url === undefined ? '' : ` and ${daemon.url}`}${daemon.metricsUrl === undefined ? '' : `; metrics at ${daemon.metricsUrl}`}\n`);
    // The first SIGINT or SIGTERM stops the daemon in order. One more is expected and ignored
    // (Ctrl-C in a terminal reaches the whole process group, and a supervisor passes its own
    // signal on); the third exits at once, as a SIGKILL would (the write-ahead audit log and
    // the store survive that).
    let signals = 0;
    let stop = (): void => {};
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) return stop();
      if (signals === 2) return void io.stderr.write(`forge daemon: already stopping (${signal}); a third signal stops at once\n`);
      io.stderr.write(`forge daemon: ${signal} again, exiting now without a clean stop\n`);
      process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await new Promise<void>((resolve) => (stop = resolve));
    io.stderr.write('forge daemon: stopping\n');
    await daemon.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.stderr.write('forge daemon: stopped\n');
    return 0;
  },
});
