/**
 * What an API listener allows a client before any route runs (docs/daemon.md, "Limits
 * for clients"): how long a request may take to arrive, how large its head may be, how
 * long an idle connection is kept, how many connections are held at once, and the one
 * error body a client gets when Node's HTTP parser refuses it (a timeout, an oversized
 * or malformed head), instead of Node's or fastify's own.
 *
 * SECURITY: a slow or silent client costs one socket for at most request_timeout (plus
 * one check interval); a flood of connections costs at most max_connections sockets per
 * listener, so the unix socket (the admin's way in) keeps serving while TCP is flooded.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { ForgeError, type Logger } from '@forgeone/common';
import type { FastifyInstance } from 'fastify';
import { errorBody, statusOf } from './errors.js';

/** Largest request head (request line and headers), in bytes: Node's default, stated. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How long an idle keep-alive connection is kept between requests, in ms. */
export const KEEP_ALIVE_MS = 5000;

/** The limits of one listener, from the daemon's configuration. */
export interface ClientLimits {
  /** daemon.request_timeout, in ms: the whole request (head and body) must arrive within it. */
  readonly requestTimeoutMs: number;
  /** daemon.max_connections: connections this listener holds open at once. */
  readonly maxConnections: number;
}

/** The fastify options of a listener enforcing `limits`. */
export interface ServerLimits {
  readonly http: ServerOptions;
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
  readonly keepAliveTimeout: number;
}

/**
 * How often Node looks for requests past their deadline, in ms. Node's default (30 s)
 * let a client dribbling its headers hold a connection up to 30 s past request_timeout.
 */
export function checkIntervalMs(requestTimeoutMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 4)));
}

/** Fastify and Node server options for `limits`. */
export function serverLimits(limits: ClientLimits): ServerLimits {
  const check = checkIntervalMs(limits.requestTimeoutMs);
  return {
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: check,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    requestTimeout: limits.requestTimeoutMs,
    // A connection silent this long is closed; set past the request deadline and its check,
    // so a request that stops arriving gets its 408 first. It also ends an answer that
    // never comes (streams keep their connections busy with pings).
    connectionTimeout: limits.requestTimeoutMs + 2 * check + 1000,
    keepAliveTimeout: KEEP_ALIVE_MS,
  };
}

/** The refusal for an error Node's HTTP layer reports on a connection (fastify's clientError). */
export function clientRefusal(error: NodeJS.ErrnoException, limits: ClientLimits): ForgeError {
  const code = error.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    return new ForgeError('FO_DAEMON_TIMEOUT', `the request did not arrive completely within daemon.request_timeout (${limits.requestTimeoutMs} ms); the connection is closed`, {
      details: { timeoutMs: limits.requestTimeoutMs },
    });
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new ForgeError('FO_DAEMON_HEADERS_TOO_LARGE', `the request line and headers are larger than ${MAX_HEADER_BYTES} bytes; the connection is closed`, {
      details: { limitBytes: MAX_HEADER_BYTES },
    });
  }
  return new ForgeError('FO_DAEMON_BAD_REQUEST', `the request is not valid HTTP/1.1 (${code.slice(0, 40) || 'unparsable'}); the connection is closed`, {
    details: { reason: code.slice(0, 40) },
  });
}

/**
 * Answers a client error with the daemon's error body, then closes the connection.
 * Nothing is written into a response already under way (it would corrupt it).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, limits: ClientLimits, logger: Logger): void {
  if (socket.destroyed || error.code === 'ECONNRESET' || error.code === 'EPIPE') {
    socket.destroy();
    return;
  }
  const refusal = clientRefusal(error, limits);
  logger.debug('API client refused by the HTTP layer', { code: refusal.code, reason: error.code, remote: socket.remoteAddress ?? 'socket' });
  refuseAndClose(socket, refusal);
}

/** Writes `refusal` as a whole HTTP response straight to `socket` (unless a response is under way there), then closes it. */
function refuseAndClose(socket: Socket, refusal: ForgeError): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status = statusOf(refusal);
  const body = JSON.stringify(errorBody(refusal));
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // A client that reads nothing cannot keep the socket open by not taking the answer.
  const fallback = setTimeout(() => socket.destroy(), 1000);
  fallback.unref();
  socket.write(head + body, () => {
    clearTimeout(fallback);
    socket.destroy();
  });
}

/**
 * When the server closes, cuts every connection whose request is still arriving: Node
 * stops checking request deadlines at close, so such a client (one that dribbles, or a
 * slow upload) would hold the stop until its connection went silent for longer than
 * the idle timeout, and systemd past its stop timeout to SIGKILL. A request whose body
 * is arriving is answered FO_DAEMON_SHUTTING_DOWN (503); a connection that has not sent
 * a whole head yet (or sits idle between requests) is closed. Requests received whole
 * are in flight: they finish.
 */
export function cutArrivingOnClose(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  const serving = new WeakMap<Socket, IncomingMessage>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.addHook('onRequest', (request, _reply, done) => {
    serving.set(request.raw.socket, request.raw);
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (serving.get(request.raw.socket) === request.raw) serving.delete(request.raw.socket);
    done();
  });
  app.addHook('preClose', (done) => {
    for (const socket of sockets) {
      const request = serving.get(socket);
      if (request === undefined) socket.destroy();
      else if (!request.complete) refuseAndClose(socket, new ForgeError('FO_DAEMON_SHUTTING_DOWN', 'the daemon is stopping and does not wait for the rest of this request'));
    }
    done();
  });
}

/**
 * Caps the connections `server` holds open; Node closes the ones beyond the cap as soon
 * as they are accepted (there is no request yet to answer). Logged at most every 10 s.
 */
export function capConnections(server: Server, limits: ClientLimits, logger: Logger, transport: string): void {
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let reported = 0;
  server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - reported < 10_000) return;
    reported = now;
    logger.warn('API connections refused: the listener holds daemon.max_connections already', { transport, maxConnections: limits.maxConnections, dropped });
  });
}
