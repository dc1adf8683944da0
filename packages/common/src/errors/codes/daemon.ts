import type { ErrorSpec } from '../spec.js';

/** Codes for `forge daemon`, its HTTP API and its clients (`FO_DAEMON_*`). */
export const DAEMON_CODES = {
  FO_DAEMON_RUNNING: {
    kind: 'conflict',
    summary: 'Another daemon already serves this state directory (it holds the daemon lock); details name its process.',
  },
  FO_DAEMON_NOT_RUNNING: {
    kind: 'unavailable',
    summary: 'The command needs a running daemon (a long-lived host for the plugin), and none answers on the configured socket; start one with forge daemon.',
  },
  FO_DAEMON_UNREACHABLE: {
    kind: 'unavailable',
    summary: 'A daemon socket exists but the request could not be completed (the daemon stopped, or its answer was cut short); details.reason says what happened.',
  },
  FO_DAEMON_UNAUTHENTICATED: {
    kind: 'unauthenticated',
    summary: 'An API request over TCP carried no bearer token, or one that is malformed, unknown, expired or revoked.',
  },
  FO_DAEMON_PEER_REFUSED: {
    kind: 'unauthenticated',
    summary: 'A process of another user than the daemon\'s (or root) reached the daemon\'s unix socket without a token; the kernel\'s peer credentials (SO_PEERCRED) name it. Only a loosened socket directory mode lets that happen.',
  },
  FO_DAEMON_FORBIDDEN: {
    kind: 'denied',
    summary: 'The caller\'s role (viewer, operator, admin) does not allow this API operation; details name the role needed.',
  },
  FO_DAEMON_BAD_REQUEST: {
    kind: 'usage',
    summary: 'An API request is malformed: its JSON does not parse, or a parameter, query or body field breaks the operation\'s schema (details.issues lists them).',
  },
  FO_DAEMON_NO_ROUTE: {
    kind: 'not_found',
    summary: 'No API operation has this method and path.',
  },
  FO_DAEMON_BODY_TOO_LARGE: {
    kind: 'limit',
    summary: 'An API request body is larger than daemon.max_request_size; it was refused before being read.',
  },
  FO_DAEMON_UNSUPPORTED_MEDIA: {
    kind: 'usage',
    summary: 'An API request body has a content type the operation does not take (JSON, or application/octet-stream for packages and call inputs).',
  },
  FO_DAEMON_TIMEOUT: {
    kind: 'unavailable',
    summary: 'An API request did not arrive, or was not answered, within daemon.request_timeout.',
  },
  FO_DAEMON_HEADERS_TOO_LARGE: {
    kind: 'limit',
    summary: 'An API request\'s request line and headers are larger than 16 KiB (too long, or too many); it was refused and its connection closed.',
  },
  FO_DAEMON_STARTING: {
    kind: 'unavailable',
    summary: 'The daemon is still bringing back the plugins that should be running; readiness answers this until it is done.',
  },
  FO_DAEMON_SHUTTING_DOWN: {
    kind: 'unavailable',
    summary: 'The daemon is stopping and takes no new requests.',
  },
  FO_DAEMON_TOKEN_NOT_FOUND: {
    kind: 'not_found',
    summary: 'No API token has that id.',
  },
  FO_DAEMON_TOO_MANY_STREAMS: {
    kind: 'limit',
    summary: 'The daemon already serves its most open streams (log follows and event streams together); close one, or retry later.',
  },
  FO_DAEMON_STREAM_OVERFLOW: {
    kind: 'limit',
    summary: 'A stream\'s client fell too far behind (1,000 events or 4 MiB not yet sent); the daemon ended the stream rather than buffer more. Reconnect and read faster.',
  },
  FO_DAEMON_UPGRADE_NOT_FOUND: {
    kind: 'not_found',
    summary: 'No pending upgrade has that id (it was approved, discarded, or pushed out by newer ones).',
  },
  FO_DAEMON_UPGRADE_STALE: {
    kind: 'conflict',
    summary: 'A pending upgrade was offered over another installed version than the one installed now, so its permission diff no longer holds; upload the package again.',
  },
  FO_DAEMON_STATE_INVALID: {
    kind: 'integrity',
    summary: 'The daemon\'s database holds something this version cannot read (a newer schema, or a damaged row); details name the table.',
  },
  FO_DAEMON_TARGET_INVALID: {
    kind: 'usage',
    summary: 'FORGE_DAEMON names no daemon the CLI may use: expected off, unix:PATH, or http://HOST:PORT on the loopback interface (a token must not cross the network in clear).',
  },
  FO_DAEMON_REGISTRY_NOT_ALLOWED: {
    kind: 'denied',
    summary:
      'The daemon does not pull from that registry: it pulls only from registries in daemon.pull_registries, or named by a version of the verified marketplace index on a public host (never loopback, private or link-local addresses unless listed); details name the registry.',
  },
} as const satisfies Record<string, ErrorSpec>;
