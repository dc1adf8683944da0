import { call } from '../../../daemon/client.js';
import type { PluginStats } from '../../../daemon/stats.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_ONLY_HELP, requireDaemon } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { formatBytes } from '../../progress.js';
import { table } from '../../table.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';

/** `0.0123` -> `12.3ms`; `-` for no figure. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '-';
  if (seconds < 0.001) return `${(seconds * 1_000_000).toFixed(0)}µs`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(1)}ms`;
  return `${seconds.toFixed(2)}s`;
}

function figure(value: number | null | undefined, render: (value: number) => string = String): string {
  return typeof value === 'number' && Number.isFinite(value) ? render(value) : '-';
}

/** `forge stats [--json]` */
export const daemonStats = defineCommand({
  path: ['stats'],
  summary: 'Show each plugin\'s calls, errors, call rate, latency, memory and fuel, from the daemon.',
  description: `${text`
    Prints the daemon's own figures for every plugin: calls and errors since the daemon started,
    calls per second lately, median and 99th percentile call latency, memory in use, and fuel
    consumed. With --json, the daemon's answer as it is: {"time", "plugins": [{"name", "calls",
    "errors", "callsPerSecond", "p50Seconds", "p99Seconds", "memoryBytes", "fuelTotal"}]}.
  `}\n\n${DAEMON_ONLY_HELP}`,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [],
  examples: ['forge stats', 'forge stats --json | jq ".plugins[] | {name, p99Seconds}"'],
  async run({ flags }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const link = await requireDaemon(io, config, 'stats');
    const stats = await call<{ time: string; plugins: PluginStats[] }>(link.target, { method: 'GET', path: '/v1/stats' });
    if (flags.json) {
      io.stdout.write(toSafeJson(stats));
      return;
    }
    if (stats.plugins.length === 0) {
      io.stderr.write('no plugins loaded\n');
      return;
    }
    const rows = [
      ['NAME', 'CALLS', 'ERRORS', 'CALLS/S', 'P50', 'P99', 'MEMORY', 'FUEL'],
      ...stats.plugins.map((plugin) => [
        sanitizeForTerminal(String(plugin.name)),
        figure(plugin.calls),
        figure(plugin.errors),
        figure(plugin.callsPerSecond, (value) => value.toFixed(2)),
        formatSeconds(plugin.p50Seconds),
        formatSeconds(plugin.p99Seconds),
        figure(plugin.memoryBytes, formatBytes),
        figure(plugin.fuelTotal),
      ]),
    ];
    io.stdout.write(`${table(rows).join('\n')}\n`);
  },
});
