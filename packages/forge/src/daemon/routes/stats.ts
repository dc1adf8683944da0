/**
 * Per-plugin call figures for the dashboard's charts and `forge stats`.
 */
import { route, type Route } from '../http/route.js';
import type { DaemonServices } from './services.js';

const NUMBER_OR_NULL = { type: ['number', 'null'] } as const;

/** The stats operation. */
export const STATS_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'stats.get',
    method: 'GET',
    url: '/v1/stats',
    summary: 'Calls, errors, call rate, latency percentiles, memory and fuel of every installed plugin.',
    description: 'Rates are over the last 10 s and percentiles over the last 1024 calls of each plugin, counted since the daemon started.',
    role: 'viewer',
    mutates: false,
    response: {
      status: 200,
      content: {
        type: 'object',
        properties: {
          time: { type: 'string' },
          plugins: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                calls: { type: 'integer' },
                errors: { type: 'integer' },
                callsPerSecond: { type: 'number' },
                p50Seconds: NUMBER_OR_NULL,
                p99Seconds: NUMBER_OR_NULL,
                memoryBytes: NUMBER_OR_NULL,
                fuelTotal: { type: 'number' },
              },
              required: ['name', 'calls', 'errors', 'callsPerSecond', 'p50Seconds', 'p99Seconds', 'memoryBytes', 'fuelTotal'],
            },
          },
        },
        required: ['time', 'plugins'],
      },
      description: 'The figures, one entry per installed plugin.',
    },
    handler: async ({ services }) => {
      const names = (await services.plugins.list()).map((plugin) => plugin.name);
      return { time: new Date().toISOString(), plugins: services.stats.snapshot(names) };
    },
  }),
];
