/**
 * API tokens: list (never their secrets), create (the secret is in the answer, once),
 * revoke. Admin only.
 *
 * SECURITY: a caller can never mint a token of a higher role than its own, whatever
 * role the route asks for (today admin, who may create any): the check is repeated in
 * the handler so that lowering the route's role cannot become an escalation. Each
 * creation is audited with the new token's id, so the token's later requests (audited
 * with `token_id`) lead back to who created it.
 */
import { ForgeError, parseDuration } from '@forgeone/common';
import { route, type JsonSchema, type Principal, type Route } from '../http/route.js';
import { ROLES, roleAllows, type Role } from '../tokens.js';
import type { DaemonServices } from './services.js';

/** Shortest and longest lifetime `expires_in` may ask for, in ms (1 s, 3650 days). */
export const TOKEN_LIFETIME_MS = { min: 1000, max: 3650 * 86_400_000 } as const;

const TOKEN_INFO: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '16 hex digits; the token text is fo_<id>_<secret>.' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    createdAt: { type: 'string' },
    expiresAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'], description: 'Updated at most once a minute.' },
  },
  required: ['id', 'name', 'role', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt'],
};

const ID_PARAMS: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'The token\'s id.' } },
  required: ['id'],
  additionalProperties: false,
};

/**
 * A token lifetime from `expires_in`.
 * @throws ForgeError FO_DAEMON_BAD_REQUEST for anything but a duration from 1s to 3650d
 */
export function tokenLifetime(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < TOKEN_LIFETIME_MS.min || ms > TOKEN_LIFETIME_MS.max) {
    throw new ForgeError('FO_DAEMON_BAD_REQUEST', `expires_in expects a duration from 1s to 3650d, like 30d or 12h, found ${JSON.stringify(text.slice(0, 40))}`, {
      details: { field: 'expires_in' },
    });
  }
  return ms;
}

/**
 * Refuses to let `principal` create a token with `role` above its own.
 * @throws ForgeError FO_DAEMON_FORBIDDEN
 */
export function assertMayGrant(principal: Principal, role: Role): void {
  if (!roleAllows(principal.role, role)) {
    throw new ForgeError('FO_DAEMON_FORBIDDEN', `${principal.name} has the ${principal.role} role and cannot create a token with the higher ${role} role`, {
      details: { operation: 'tokens.create', needed: role, role: principal.role },
    });
  }
}

/** The token operations. */
export const TOKEN_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'tokens.list',
    method: 'GET',
    url: '/v1/tokens',
    summary: 'Every API token, newest first, without its secret.',
    role: 'admin',
    mutates: false,
    response: { status: 200, content: { type: 'object', properties: { tokens: { type: 'array', items: TOKEN_INFO } }, required: ['tokens'] }, description: 'The tokens.' },
    handler: ({ services }) => Promise.resolve({ tokens: services.tokens.list() }),
  }),
  route<DaemonServices>({
    operation: 'tokens.create',
    method: 'POST',
    url: '/v1/tokens',
    summary: 'Create an API token; the answer holds its secret, shown this once.',
    description: 'A caller cannot create a token with a role above its own (FO_DAEMON_FORBIDDEN).',
    role: 'admin',
    mutates: true,
    body: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64, description: 'What the token is for; recorded as token:<name> in the audit log.' },
        role: { type: 'string', enum: [...ROLES] },
        expires_in: { type: 'string', minLength: 1, maxLength: 40, description: 'Lifetime from now, a duration from 1s to 3650d (30d, 12h); none: until revoked.' },
      },
      required: ['name', 'role'],
      additionalProperties: false,
    },
    response: {
      status: 201,
      content: { type: 'object', properties: { token: { type: 'string', description: 'fo_<id>_<secret>: send it as Authorization: Bearer <token>.' }, info: TOKEN_INFO }, required: ['token', 'info'] },
      description: 'The new token and its description.',
    },
    handler: ({ services, body, principal }) => {
      const { name, role, expires_in: expiresIn } = body as { name: string; role: Role; expires_in?: string };
      assertMayGrant(principal, role);
      const created = services.tokens.create(name, role, expiresIn === undefined ? undefined : tokenLifetime(expiresIn));
      const audit = services.audit;
      if (audit !== undefined && audit.shouldRecord('decision')) {
        try {
          audit.append({
            principal: principal.name,
            action: 'token.create',
            resource: `token:${created.info.id}`,
            decision: 'allow',
            reason: `created a ${role} token named ${name}`,
            data: { name, role, expires_at: created.info.expiresAt ?? 'never' },
          });
        } catch (error) {
          // SECURITY: a token whose creation cannot be audited must not exist.
          services.tokens.revoke(created.info.id);
          throw error;
        }
      }
      return Promise.resolve(created);
    },
  }),
  route<DaemonServices>({
    operation: 'tokens.revoke',
    method: 'DELETE',
    url: '/v1/tokens/:id',
    summary: 'Revoke an API token; its next request is refused. Revoking twice is not an error.',
    role: 'admin',
    mutates: true,
    params: ID_PARAMS,
    resource: (params) => `token:${params['id'] ?? ''}`,
    response: { status: 200, content: TOKEN_INFO, description: 'The revoked token.' },
    handler: ({ services, params }) => Promise.resolve(services.tokens.revoke(params['id'] as string)),
  }),
];
