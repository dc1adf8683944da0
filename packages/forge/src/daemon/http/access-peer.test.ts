/**
 * Fail closed on the unix socket when the peer-credentials module is loaded but a
 * connection has no peer record (h14 attack review): such a request was served as the
 * daemon's own user (admin), as if the module were absent. A reader that answers nothing
 * for a connection now closes it, and a request without a record is refused.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { ForgeError, type Logger } from '@forgeone/common';
import { authenticate, type AccessParts } from './access.js';
import { peerOf, recordPeers } from './peer.js';
import type { Tokens } from '../tokens.js';

const parts = (peers: AccessParts['peers']): AccessParts => ({
  tokens: {} as Tokens,
  audit: undefined,
  socketUser: 'user:tester',
  daemonUid: 4242,
  ...(peers === undefined ? {} : { peers }),
});

const request = (socket: object): FastifyRequest => ({ headers: {}, socket }) as unknown as FastifyRequest;

describe('socket callers without a peer record', () => {
  it('refuses a token-less request with FO_DAEMON_PEER_REFUSED when the module is loaded but the connection has no record', () => {
    assert.throws(
      () => authenticate(request({}), 'socket', parts(() => undefined)),
      (error: unknown) => ForgeError.is(error, 'FO_DAEMON_PEER_REFUSED'),
    );
  });

  it('still serves the daemon user as admin when the module is absent (the file mode alone decides, as documented)', () => {
    assert.equal(authenticate(request({}), 'socket', parts(undefined)).role, 'admin');
  });

  it('closes a connection whose peer the reader cannot name, and records none for it', () => {
    const server = new EventEmitter() as unknown as Server;
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
    recordPeers(server, () => undefined, logger);
    let destroyed = false;
    const socket = { destroy: () => void (destroyed = true) } as unknown as Socket;
    server.emit('connection', socket);
    assert.equal(destroyed, true);
    assert.equal(peerOf(socket), undefined);
    assert.equal(warnings.length, 1);
  });
});
