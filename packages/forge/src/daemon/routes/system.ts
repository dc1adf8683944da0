/**
 * Health and readiness (public: they say nothing beyond "up"), and what the daemon is.
 */
import { ForgeError } from '@forgeone/common';
import { route, type Route } from '../http/route.js';
import type { DaemonServices } from './services.js';

const STATUS = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } as const;

/** The system operations. */
export const SYSTEM_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'system.health',
    method: 'GET',
    url: '/v1/health',
    summary: 'Whether the daemon answers.',
    role: 'public',
    mutates: false,
    response: { status: 200, content: STATUS, description: '`{"status":"ok"}` while the daemon serves requests.' },
    handler: () => Promise.resolve({ status: 'ok' }),
  }),
  route<DaemonServices>({
    operation: 'system.ready',
    method: 'GET',
    url: '/v1/ready',
    summary: 'Whether the daemon has brought back every plugin that should be running.',
    description: 'Answers 503 with FO_DAEMON_STARTING while the plugins that should run are still being brought back at start-up.',
    role: 'public',
    mutates: false,
    response: { status: 200, content: STATUS, description: '`{"status":"ready"}` once start-up is done.' },
    handler: ({ services }) => {
      if (!services.ready()) return Promise.reject(new ForgeError('FO_DAEMON_STARTING', 'the daemon is still bringing back the plugins that should be running'));
      return Promise.resolve({ status: 'ready' });
    },
  }),
  route<DaemonServices>({
    operation: 'system.info',
    method: 'GET',
    url: '/v1/info',
    summary: 'The daemon\'s version, process and start time, and the caller\'s own identity and role.',
    role: 'viewer',
    mutates: false,
    response: {
      status: 200,
      content: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          pid: { type: 'integer' },
          startedAt: { type: 'string' },
          principal: { type: 'string' },
          role: { type: 'string', enum: ['viewer', 'operator', 'admin'] },
        },
        required: ['version', 'pid', 'startedAt', 'principal', 'role'],
      },
      description: 'What the daemon is, and who the caller is to it.',
    },
    handler: ({ services, principal }) =>
      Promise.resolve({ version: services.about.version, pid: services.about.pid, startedAt: services.about.startedAt, principal: principal.name, role: principal.role }),
  }),
];
