import type { Route } from '../http/route.js';
import { AUDIT_ROUTES } from './audit.js';
import { EVENT_ROUTES } from './events.js';
import { LOG_ROUTES } from './logs.js';
import { MARKETPLACE_ROUTES } from './marketplace.js';
import { PLUGIN_ROUTES } from './plugins.js';
import { PULL_ROUTES } from './pull.js';
import type { DaemonServices } from './services.js';
import { STATS_ROUTES } from './stats.js';
import { SYSTEM_ROUTES } from './system.js';
import { TOKEN_ROUTES } from './tokens.js';
import { UPGRADE_ROUTES } from './upgrades.js';
import { UI_ROUTES } from './ui.js';

export type { DaemonServices } from './services.js';

/** Every operation of the daemon's API, in the order the reference lists them. */
export const DAEMON_ROUTES: readonly Route<DaemonServices>[] = [
  ...SYSTEM_ROUTES,
  ...PLUGIN_ROUTES,
  ...PULL_ROUTES,
  ...LOG_ROUTES,
  ...EVENT_ROUTES,
  ...AUDIT_ROUTES,
  ...TOKEN_ROUTES,
  ...UPGRADE_ROUTES,
  ...STATS_ROUTES,
  ...MARKETPLACE_ROUTES,
  ...UI_ROUTES,
];
