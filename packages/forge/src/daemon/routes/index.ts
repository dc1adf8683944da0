import type { Route } from '../http/route.js';
import { PLUGIN_ROUTES } from './plugins.js';
import type { DaemonServices } from './services.js';
import { STATS_ROUTES } from './stats.js';
import { SYSTEM_ROUTES } from './system.js';

export type { DaemonServices } from './services.js';

/** Every operation of the daemon's API, in the order the reference lists them. */
export const DAEMON_ROUTES: readonly Route<DaemonServices>[] = [...SYSTEM_ROUTES, ...PLUGIN_ROUTES, ...STATS_ROUTES];
