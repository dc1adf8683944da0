/**
 * A cgroup's freezer files (v1 freezer.state; v2 cgroup.freeze, and cgroup.events where the
 * kernel reports the state), kept open from the first freeze until the group is removed,
 * and the wait for the kernel to reach the state written.
 *
 * Kept open: re-opening a kernel pseudo-file for every write and every read of the state
 * cost 8-9 us a read against 1.5 us through a descriptor kept open (pread at offset 0
 * makes the kernel generate the file again), on a 2-vCPU machine.
 *
 * The wait gives the core away. Freezing takes effect when each task of the group next
 * runs: a task asleep in a freezable wait (futex) is frozen where it sleeps, but one asleep
 * in poll(2), a FIFO read or wait(2) (a sandbox's main thread, Node's timer thread, both
 * bubblewrap processes) is woken and must be scheduled to reach the freezer. A host thread
 * that re-reads the state back to back holds a core those tasks need: on a loaded 2-vCPU
 * machine a freeze waited for that way took 31-32 ms (thousands of reads) where the tasks
 * needed microseconds of CPU. So after re-reading for {@link READ_MS} (a task running on
 * another core is stopped by an interrupt at once) this thread sleeps {@link NAP_MS}
 * between reads (a futex wait: the scheduler runs the woken tasks meanwhile) and lets its
 * event loop turn,
 * for {@link NAP_WINDOW_MS} (a read costs about 2 us of CPU per sleep of 50-70 us); then
 * it waits on timers, 1 ms doubling to 50 ms, as {@link pollUntil} does.
 */
import { cgroupUnavailable, pollUntil, type CgroupFile, type CgroupFs } from './cgroup-fs.js';

/** How long, in ms, the wait re-reads the state back to back before it starts sleeping between reads. */
export const READ_MS = 0.03;
/** How long each sleep between two reads of the state lasts, in ms (the kernel's timer slack adds about 50 us). */
export const NAP_MS = 0.02;
/** How long, in ms, the wait reads the state between short sleeps before it backs off to timers (1 ms, doubling). */
export const NAP_WINDOW_MS = 10;

const NAP = new Int32Array(new SharedArrayBuffer(4));

/**
 * Waits until `done` answers true, giving the core away between reads (see the module
 * comment): back to back for {@link READ_MS}, then between sleeps of {@link NAP_MS} for {@link NAP_WINDOW_MS},
 * then on timers as {@link pollUntil} waits, without its quick reads (they would hold the core again).
 * @throws FO_SANDBOX_UNAVAILABLE when it is still not done after `timeoutMs`
 */
export async function waitForFreezer(done: () => Promise<boolean>, what: string, path: string, timeoutMs = 10_000): Promise<void> {
  // A task running on another core is stopped by an interrupt within microseconds: re-read for that long first.
  const readUntil = performance.now() + READ_MS;
  for (;;) {
    if (await done()) return;
    if (performance.now() >= readUntil) break;
  }
  const napUntil = performance.now() + NAP_WINDOW_MS;
  while (performance.now() < napUntil) {
    Atomics.wait(NAP, 0, 0, NAP_MS);
    if (await done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await pollUntil(done, what, path, timeoutMs - NAP_WINDOW_MS, false);
}

/**
 * The freezer of one group: `control` is written (v1 FROZEN/THAWED, v2 1/0), `state` read
 * until `reached` says the kernel is there (v1: the same file). With an {@link CgroupFs}
 * that can open files, both are opened on the first use and kept until {@link close};
 * otherwise each access goes by path.
 */
export class FreezerFiles {
  readonly #fs: CgroupFs;
  readonly #control: string;
  readonly #state: string;
  #files: { readonly control: CgroupFile; readonly state: CgroupFile } | undefined;
  #closed = false;

  constructor(fs: CgroupFs, control: string, state: string) {
    this.#fs = fs;
    this.#control = control;
    this.#state = state;
  }

  /**
   * Writes `value` and waits for `reached` to accept what the state file says.
   * @throws FO_SANDBOX_UNAVAILABLE when a file cannot be used, or the state is not reached within 10 s
   */
  async set(value: string, reached: (text: string) => boolean, action: string): Promise<void> {
    const files = this.#open(action);
    try {
      if (files === undefined) await this.#fs.write(this.#control, value);
      else files.control.write(value);
    } catch (error) {
      throw cgroupUnavailable(action, this.#control, error);
    }
    const read = async (): Promise<string> => {
      try {
        // SECURITY: once closed (the group is being removed while this waits), by path: the
        // descriptor's number may already be another file's, opened since by this process.
        return files === undefined || this.#files !== files ? await this.#fs.read(this.#state) : files.state.read();
      } catch (error) {
        throw cgroupUnavailable(action, this.#state, error);
      }
    };
    await waitForFreezer(async () => reached(await read()), action, this.#state);
  }

  /** Closes the files kept open (the group is being removed); later uses go by path. */
  close(): void {
    this.#closed = true;
    const files = this.#files;
    this.#files = undefined;
    files?.control.close();
    if (files !== undefined && files.state !== files.control) files.state.close();
  }

  #open(action: string): { readonly control: CgroupFile; readonly state: CgroupFile } | undefined {
    const fs = this.#fs;
    if (this.#files !== undefined || fs.open === undefined || this.#closed) return this.#files;
    let control: CgroupFile | undefined;
    try {
      if (this.#control === this.#state) {
        control = fs.open(this.#control, 'rw');
        this.#files = { control, state: control };
      } else {
        control = fs.open(this.#control, 'w');
        this.#files = { control, state: fs.open(this.#state, 'r') };
      }
    } catch (error) {
      control?.close();
      throw cgroupUnavailable(action, control === undefined ? this.#control : this.#state, error);
    }
    return this.#files;
  }
}
