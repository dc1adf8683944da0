/**
 * Zero trust for operators too: who is asking, whether their role allows the operation,
 * and the audit record of that decision, for every API request.
 *
 * - On the unix socket, the kernel says who connected (SO_PEERCRED, peer.ts): the daemon's
 *   own user or root acts as `admin`; anyone else is refused (FO_DAEMON_PEER_REFUSED),
 *   which only a loosened socket mode lets happen (0600 in a 0700 directory keeps them
 *   out). A bearer token, when presented, decides instead. Without the peer module (not
 *   built), the file mode alone is the credential and the daemon says so at start.
 * - Over TCP, every request needs a bearer token (tokens.ts); its role decides.
 *
 * Every refusal (no or bad token, a role too low) is audited as a denial at every level;
 * an allowed request that changes something is a `decision`, a read a `call` (level
 * `all` only), as for host calls. A request whose decision must be audited and cannot be
 * is refused (fail closed).
 */
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { ForgeError } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import { roleAllows, type Tokens } from '../tokens.js';
import type { Principal, Route } from './route.js';
import type { Peer } from './peer.js';

/** What the access check needs. */
export interface AccessParts {
  readonly tokens: Tokens;
  readonly audit: AuditLog | undefined;
  /** The principal name of socket callers: `user:<the daemon's user>`. */
  readonly socketUser: string;
  /** The daemon's effective uid: with root, the one peer uid allowed on the socket without a token. */
  readonly daemonUid: number;
  /** The socket peer of a request's connection (socket transport with the peer module only). */
  readonly peers?: (socket: Socket) => Peer | undefined;
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
    if (transport === 'socket') return socketCaller(request, parts);
    throw new ForgeError('FO_DAEMON_UNAUTHENTICATED', 'requests over TCP need a bearer token (Authorization: Bearer fo_...; create one with forge token create)');
  }
  const match = BEARER.exec(header);
  if (match === null) throw new ForgeError('FO_DAEMON_UNAUTHENTICATED', 'expected an Authorization header of the form "Bearer fo_...", found another form');
  const token = parts.tokens.verify(match[1] as string);
  return { name: `token:${token.name}`, role: token.role, transport, tokenId: token.id };
}

/**
 * A socket caller without a token: the daemon's user or root, as the kernel says.
 * @throws ForgeError FO_DAEMON_PEER_REFUSED for any other user, or a connection without a peer record while the peer module is loaded
 */
function socketCaller(request: FastifyRequest, parts: AccessParts): Principal {
  // Without the peer module, the socket's file mode alone is the credential (documented, warned at start).
  if (parts.peers === undefined) return { name: parts.socketUser, role: 'admin', transport: 'socket' };
  const peer = parts.peers(request.socket);
  // SECURITY: with the module loaded, a connection without the kernel's record is nobody known: fail closed.
  if (peer === undefined) throw new ForgeError('FO_DAEMON_PEER_REFUSED', "expected the kernel's record of the process at the other end of the socket (SO_PEERCRED), found none; the connection's peer could not be read");
  if (peer.uid === parts.daemonUid) return { name: parts.socketUser, role: 'admin', transport: 'socket' };
  if (peer.uid === 0) return { name: 'user:root', role: 'admin', transport: 'socket' };
  throw new ForgeError('FO_DAEMON_PEER_REFUSED', `expected the daemon's user (uid ${parts.daemonUid}) or root on the socket without a token, found uid ${peer.uid} (pid ${peer.pid}); check the socket directory's mode`, {
    details: { uid: peer.uid, gid: peer.gid, pid: peer.pid },
  });
}

/** The audit fields of a request. */
function auditData(request: FastifyRequest, principal: Principal | undefined, transport: 'socket' | 'tcp', parts: AccessParts): Record<string, string> {
  const peer = transport === 'socket' ? parts.peers?.(request.socket) : undefined;
  return {
    transport,
    request_id: request.id,
    ...(transport === 'tcp' ? { remote: request.socket.remoteAddress ?? 'unknown' } : {}),
    ...(peer === undefined ? {} : { peer_uid: String(peer.uid), peer_pid: String(peer.pid) }),
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
    recordDenial(parts, action, resource, 'anonymous', error as ForgeError, auditData(request, undefined, transport, parts));
    throw error;
  }
  if (!roleAllows(principal.role, route.role)) {
    const refusal = new ForgeError('FO_DAEMON_FORBIDDEN', `${route.operation} needs the ${route.role} role; ${principal.name} has ${principal.role}`, {
      details: { operation: route.operation, needed: route.role, role: principal.role },
    });
    recordDenial(parts, action, resource, principal.name, refusal, auditData(request, principal, transport, parts));
    throw refusal;
  }
  const audit = parts.audit;
  if (audit !== undefined && audit.shouldRecord(route.mutates ? 'decision' : 'call')) {
    // SECURITY: append throws when the log cannot record; the request is then refused.
    audit.append({ principal: principal.name, action, resource, decision: 'allow', reason: `the ${principal.role} role allows ${route.operation}`, data: auditData(request, principal, transport, parts) });
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
