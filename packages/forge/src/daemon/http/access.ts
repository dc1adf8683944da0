/**
 * Zero trust for operators too: who is asking, whether their role allows the operation,
 * and the audit record of that decision, for every API request.
 *
 * - On the unix socket, the caller is the daemon's own user (the socket is mode 0600 in
 *   a 0700 directory: the file system is the credential; Node cannot read SO_PEERCRED)
 *   and acts as `admin`, unless it presents a bearer token, which then decides.
 * - Over TCP, every request needs a bearer token (tokens.ts); its role decides.
 *
 * Every refusal (no or bad token, a role too low) is audited as a denial at every level;
 * an allowed request that changes something is a `decision`, a read a `call` (level
 * `all` only), as for host calls. A request whose decision must be audited and cannot be
 * is refused (fail closed).
 */
import type { FastifyRequest } from 'fastify';
import { ForgeError } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import { roleAllows, type Tokens } from '../tokens.js';
import type { Principal, Route } from './route.js';

/** What the access check needs. */
export interface AccessParts {
  readonly tokens: Tokens;
  readonly audit: AuditLog | undefined;
  /** The principal name of socket callers: `user:<the daemon's user>`. */
  readonly socketUser: string;
}

/** The caller of a public operation. */
export const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', role: 'viewer', transport: 'tcp' });

const BEARER = /^Bearer ([\x21-\x7e]{1,200})$/;

/**
 * Who sent `request` over `transport`.
 * @throws ForgeError FO_DAEMON_UNAUTHENTICATED
 */
export function authenticate(request: FastifyRequest, transport: 'socket' | 'tcp', parts: AccessParts): Principal {
  const header = request.headers.authorization;
  if (header === undefined) {
    if (transport === 'socket') return { name: parts.socketUser, role: 'admin', transport };
    throw new ForgeError('FO_DAEMON_UNAUTHENTICATED', 'requests over TCP need a bearer token (Authorization: Bearer fo_...; create one with forge token create)');
  }
  const match = BEARER.exec(header);
  if (match === null) throw new ForgeError('FO_DAEMON_UNAUTHENTICATED', 'expected an Authorization header of the form "Bearer fo_...", found another form');
  const token = parts.tokens.verify(match[1] as string);
  return { name: `token:${token.name}`, role: token.role, transport, tokenId: token.id };
}

/** The audit fields of a request. */
function auditData(request: FastifyRequest, principal: Principal | undefined, transport: 'socket' | 'tcp'): Record<string, string> {
  return {
    transport,
    request_id: request.id,
    ...(transport === 'tcp' ? { remote: request.socket.remoteAddress ?? 'unknown' } : {}),
    ...(principal?.tokenId === undefined ? {} : { token_id: principal.tokenId }),
  };
}

/**
 * Decides `request` for `route`: authenticates, checks the role, audits the decision.
 * @returns the principal to serve the request as
 * @throws ForgeError FO_DAEMON_UNAUTHENTICATED, FO_DAEMON_FORBIDDEN (both audited), or
 *   FO_AUDIT_WRITE_FAILED when an allowed request cannot be audited
 */
export function decideAccess<S>(request: FastifyRequest, route: Route<S>, transport: 'socket' | 'tcp', parts: AccessParts): Principal {
  if (route.role === 'public') return { ...ANONYMOUS, transport };
  const action = `api.${route.operation}`;
  const resource = route.resource?.(request.params as Record<string, string>);
  let principal: Principal;
  try {
    principal = authenticate(request, transport, parts);
  } catch (error) {
    recordDenial(parts, action, resource, 'anonymous', error as ForgeError, auditData(request, undefined, transport));
    throw error;
  }
  if (!roleAllows(principal.role, route.role)) {
    const refusal = new ForgeError('FO_DAEMON_FORBIDDEN', `${route.operation} needs the ${route.role} role; ${principal.name} has ${principal.role}`, {
      details: { operation: route.operation, needed: route.role, role: principal.role },
    });
    recordDenial(parts, action, resource, principal.name, refusal, auditData(request, principal, transport));
    throw refusal;
  }
  const audit = parts.audit;
  if (audit !== undefined && audit.shouldRecord(route.mutates ? 'decision' : 'call')) {
    // SECURITY: append throws when the log cannot record; the request is then refused.
    audit.append({ principal: principal.name, action, resource, decision: 'allow', reason: `the ${principal.role} role allows ${route.operation}`, data: auditData(request, principal, transport) });
  }
  return principal;
}

function recordDenial(parts: AccessParts, action: string, resource: string | undefined, principal: string, refusal: ForgeError, data: Record<string, string>): void {
  const audit = parts.audit;
  if (audit === undefined || !audit.shouldRecord('denial')) return;
  try {
    audit.append({ principal, action, resource, decision: 'deny', reason: `${refusal.code}: ${refusal.message}`, data });
  } catch {
    // The request is refused either way; the audit log's own failure is reported by its next writer.
  }
}
