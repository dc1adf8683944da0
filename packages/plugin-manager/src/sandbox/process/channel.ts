/**
 * Which channel a side of a sandbox speaks over: the shared ring (ring.ts) when the host
 * made one (its memfd passed as `--ring=FD`), else the FIFOs alone (wire.ts).
 */
import { ForgeError } from '@forgeone/common';
import { sharedMemory, type SharedMemoryModule } from '../../abi/shared-memory.js';
import { RING_BYTES, RingChannel } from './ring.js';
import { FifoChannel, type FrameChannel } from './wire.js';

/** A descriptor the host passed as `--NAME=FD` among a sandbox's arguments (`ring`: the shared ring's memfd; `ledger`: pool-ledger.ts), if it did. */
export function descriptorArgument(args: readonly string[], name: string): number | undefined {
  const given = args.find((arg) => arg.startsWith(`--${name}=`));
  if (given === undefined) return undefined;
  const fd = Number(given.slice(name.length + 3));
  if (!Number.isInteger(fd) || fd < 3) throw new Error(`sandbox: bad ${given}`);
  return fd;
}

/**
 * One side's channel: the shared ring over the memfd `memfd` when given (the FIFOs `bell`
 * and `ring` then carry doorbells; `cursor`: see {@link RingChannel}), else frames over
 * the FIFOs themselves. `idle` ({@link RingChannel}) is made with the loaded module.
 * @throws FO_SANDBOX_UNAVAILABLE when the shared-memory module cannot be loaded; what mapping throws
 */
export function openChannel(side: 'host' | 'sandbox', bell: number, ring: number, memfd: number | undefined, cursor?: SharedArrayBuffer, idle?: (memory: SharedMemoryModule) => ((bell: number) => void) | undefined): FrameChannel {
  if (memfd === undefined) return new FifoChannel(bell, ring);
  const memory = sharedMemory();
  if (memory === undefined) throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `the ${side} cannot load the shared-memory module (native/shared-memory.node)`);
  return new RingChannel(memory.map(memfd, RING_BYTES), side, bell, ring, cursor, idle?.(memory));
}
