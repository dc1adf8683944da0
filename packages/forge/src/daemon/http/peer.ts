/**
 * Who is at the other end of the daemon's unix socket: the kernel's SO_PEERCRED record
 * (pid, uid, gid at connect time), read once per connection through forge's Node-API
 * module (packages/forge/native/peercred.c, built by `npm run build`). The socket's mode
 * (0600 in a 0700 directory) already keeps other users out; the peer check holds even
 * when that mode is loosened, and tells root from the daemon's user in the audit log.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '@forgeone/common';

/** The process at the other end of a socket connection. */
export interface Peer {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** Reads the peer of a connected unix socket. */
export type PeerReader = (socket: Socket) => Peer | undefined;

interface NativePeerCred {
  peerCredentials(fd: number): Peer;
}

const MODULE = '../../native/peercred.node';

/**
 * The peer reader, or the reason there is none (not Linux, or the module was not built).
 */
export function loadPeerReader(): { readonly reader: PeerReader } | { readonly reason: string } {
  if (process.platform !== 'linux') return { reason: `SO_PEERCRED is read on Linux only, not ${process.platform}` };
  let native: NativePeerCred;
  try {
    native = createRequire(import.meta.url)(MODULE) as NativePeerCred;
  } catch (error) {
    return { reason: `forge's peer-credentials module is not built (${(error as Error).message.split('\n')[0]}); npm run build builds it with the C compiler` };
  }
  return {
    reader: (socket) => {
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      return typeof fd === 'number' && fd >= 0 ? native.peerCredentials(fd) : undefined;
    },
  };
}

const peers = new WeakMap<Socket, Peer>();

/**
 * Records the peer of every connection `server` accepts (at accept time, before any
 * byte is read); {@link peerOf} answers for its sockets. A connection whose peer cannot
 * be read is closed at once.
 */
export function recordPeers(server: Server, reader: PeerReader, logger: Logger): void {
  server.on('connection', (socket: Socket) => {
    let peer: Peer | undefined;
    let why = 'the socket has no file descriptor';
    try {
      peer = reader(socket);
    } catch (error) {
      why = (error as Error).message;
    }
    if (peer !== undefined) peers.set(socket, peer);
    else {
      logger.warn('API connection closed: its peer credentials could not be read', { error: why });
      socket.destroy();
    }
  });
}

/** The peer recorded for `socket`, if any. */
export function peerOf(socket: Socket): Peer | undefined {
  return peers.get(socket);
}
