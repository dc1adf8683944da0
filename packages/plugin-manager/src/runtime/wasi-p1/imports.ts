/**
 * The marshalling adapter: the `wasi_snapshot_preview1` import object of one guest.
 * It owns everything about guest memory (pointers, iovecs, struct layouts, errno
 * numbers) and nothing else; the core owns descriptors, rights, paths and time.
 *
 * Every one of the 46 functions is made with one of the wrappers in serve.ts: it passes
 * `gate.check` before it acts (path calls ask about the guest path they really reach,
 * once per path), a denial returns EACCES without doing anything, and refusals the host
 * makes on its own rules are reported to the gate. proc_exit, which has no errno, stops
 * the guest with FO_WASI_CALL_DENIED when denied.
 */
import { ForgeError } from '@forgeone/common';
import { CALL, ERRNO, EVENTTYPE, LAYOUT, MAX_SUBSCRIPTIONS, SUBCLOCKFLAGS_ABSTIME, WASI_P1_FUNCTIONS, type WasiFunctionName } from './abi.js';
import type { PackedStrings } from './core.js';
import { fail } from './errno.js';
import { fdImports } from './imports-fd.js';
import { pathImports } from './imports-path.js';
import type { HostFunction, ImportContext } from './marshal.js';
import { WasiExit } from './outcome.js';
import { poll, type Subscription } from './poll.js';
import { onFd, plain } from './serve.js';

const { SUCCESS, EINVAL } = ERRNO;

/** args, env, clocks, random, poll, proc, sched and sock functions of one guest. */
function processImports(ctx: ImportContext): Record<string, HostFunction> {
  const { core, memory, gate } = ctx;
  const table = core.table;

  const writeStrings = (strings: PackedStrings, pointers: number, buffer: number): number => {
    memory.refresh();
    memory.check(pointers, strings.count * 4);
    memory.check(buffer, strings.bytes.length);
    memory.u8.set(strings.bytes, buffer);
    strings.offsets.forEach((offset, index) => memory.view.setUint32(pointers + index * 4, buffer + offset, true));
    return SUCCESS;
  };

  const writeSizes = (strings: PackedStrings, count: number, size: number): number => {
    memory.refresh();
    memory.check(count, 4);
    memory.check(size, 4);
    memory.view.setUint32(count, strings.count, true);
    memory.view.setUint32(size, strings.bytes.length, true);
    return SUCCESS;
  };

  const decodeSubscriptions = (at: number, count: number): Subscription[] => {
    const view = memory.view;
    const subscriptions: Subscription[] = [];
    for (let index = 0; index < count; index += 1) {
      const ptr = at + index * LAYOUT.SUBSCRIPTION_SIZE;
      const userdata = view.getBigUint64(ptr, true);
      const type = view.getUint8(ptr + 8);
      if (type === EVENTTYPE.CLOCK) {
        const absolute = (view.getUint16(ptr + 40, true) & SUBCLOCKFLAGS_ABSTIME) !== 0;
        subscriptions.push({ type, userdata, clockId: view.getUint32(ptr + 16, true), timeout: view.getBigUint64(ptr + 24, true), absolute });
      } else if (type === EVENTTYPE.FD_READ || type === EVENTTYPE.FD_WRITE) {
        subscriptions.push({ type, userdata, fd: view.getUint32(ptr + 16, true) });
      } else fail(EINVAL);
    }
    return subscriptions;
  };

  /** Every socket call answers EBADF or ENOTSOCK: there are no sockets. */
  const sock = (name: WasiFunctionName): HostFunction => onFd(ctx, name, (f) => core.sock(f));

  return {
    args_get: plain(ctx, 'args_get', (argv: number, buffer: number) => writeStrings(core.args, argv >>> 0, buffer >>> 0)),
    args_sizes_get: plain(ctx, 'args_sizes_get', (count: number, size: number) => writeSizes(core.args, count >>> 0, size >>> 0)),
    environ_get: plain(ctx, 'environ_get', (environ: number, buffer: number) => writeStrings(core.env, environ >>> 0, buffer >>> 0)),
    environ_sizes_get: plain(ctx, 'environ_sizes_get', (count: number, size: number) => writeSizes(core.env, count >>> 0, size >>> 0)),

    clock_res_get: plain(ctx, 'clock_res_get', (id: number, out: number) => {
      memory.refresh();
      memory.setU64(out >>> 0, core.clock.resolution(id >>> 0));
      return SUCCESS;
    }),

    clock_time_get: plain(ctx, 'clock_time_get', (id: number, _precision: bigint, out: number) => {
      memory.refresh();
      memory.check(out >>> 0, 8);
      memory.view.setBigUint64(out >>> 0, core.clock.now(id >>> 0), true);
      return SUCCESS;
    }),

    poll_oneoff: plain(ctx, 'poll_oneoff', (input: number, output: number, count: number, nevents: number) => {
      const n = count >>> 0;
      if (n === 0 || n > MAX_SUBSCRIPTIONS) return EINVAL;
      memory.refresh();
      memory.check(input >>> 0, n * LAYOUT.SUBSCRIPTION_SIZE);
      memory.check(output >>> 0, n * LAYOUT.EVENT_SIZE);
      memory.check(nevents >>> 0, 4);
      const events = poll(table, core.clock, decodeSubscriptions(input >>> 0, n));
      const view = memory.view;
      events.forEach((event, index) => {
        const ptr = (output >>> 0) + index * LAYOUT.EVENT_SIZE;
        memory.u8.fill(0, ptr, ptr + LAYOUT.EVENT_SIZE);
        view.setBigUint64(ptr, event.userdata, true);
        view.setUint16(ptr + 8, event.error, true);
        view.setUint8(ptr + 10, event.type);
        view.setBigUint64(ptr + 16, event.nbytes, true);
        view.setUint16(ptr + 24, event.flags, true);
      });
      view.setUint32(nevents >>> 0, events.length, true);
      return SUCCESS;
    }),

    // proc_exit has no errno to answer with: a denial stops the guest.
    proc_exit(code: number): never {
      if (gate.check(CALL.proc_exit) !== undefined) {
        throw new ForgeError('FO_WASI_CALL_DENIED', `the host-call gate refused proc_exit(${code >>> 0}); the guest was stopped`, { details: { call: CALL.proc_exit } });
      }
      throw new WasiExit(code >>> 0);
    },

    proc_raise: plain(ctx, 'proc_raise', (signal: number) => core.procRaise(signal & 0xff)),
    sched_yield: plain(ctx, 'sched_yield', () => SUCCESS),

    random_get: plain(ctx, 'random_get', (buffer: number, length: number) => {
      memory.refresh();
      memory.check(buffer >>> 0, length >>> 0);
      core.random(memory.u8, buffer >>> 0, length >>> 0);
      return SUCCESS;
    }),

    sock_accept: sock('sock_accept'),
    sock_recv: sock('sock_recv'),
    sock_send: sock('sock_send'),
    sock_shutdown: sock('sock_shutdown'),
  };
}

/** The 46 functions of `wasi_snapshot_preview1` for one guest, in witx order. */
export function createImports(ctx: ImportContext): Readonly<Record<WasiFunctionName, HostFunction>> {
  const all = { ...processImports(ctx), ...fdImports(ctx), ...pathImports(ctx) };
  const ordered = {} as Record<WasiFunctionName, HostFunction>;
  for (const name of WASI_P1_FUNCTIONS) {
    const fn = all[name];
    if (fn === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', `WASI function ${name} has no implementation`);
    ordered[name] = fn;
  }
  return Object.freeze(ordered);
}

