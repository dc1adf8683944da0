import type { Route } from '../http/route.js';
import { PLUGIN_ROUTES } from './plugins.js';
import type { DaemonServices } from './services.js';
import { SYSTEM_ROUTES } from './system.js';
import { UI_ROUTES } from './ui.js';

export type { DaemonServices } from './services.js';

/** Every operation of the daemon's API, in the order the reference lists them. */
export const DAEMON_ROUTES: readonly Route<DaemonServices>[] = [...SYSTEM_ROUTES, ...PLUGIN_ROUTES, ...UI_ROUTES];
