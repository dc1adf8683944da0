/**
 * The plugins of the load test (load.ts): a well-behaved guest and six hostile ones, each
 * written to be stopped by one limit, with the answer that limit gives on each backend.
 *
 * Every guest exports `work(ptr, len) -> i64` (the export the load driver calls) and a
 * forge/1 allocator that wraps around inside its first page, so that a plugin called a
 * million times never runs out of heap: the host copies every region out right after the
 * call or host call that produced it, and no call here allocates more than a few bytes.
 */

/** The backends the load test runs on. */
export type LoadBackend = 'inline' | 'pool' | 'process';

/**
 * The allocator every load guest shares: a bump pointer over [4096, 65536) that starts
 * again at 4096 when a region would not fit (0, "out of memory", for one larger than 60 KiB).
 */
const ALLOCATOR = `
  (global $heap (mut i32) (i32.const 4096))
  (func $alloc (export "forge_alloc") (param $len i32) (result i32) (local $p i32)
    (if (i32.gt_u (local.get $len) (i32.const 61440)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.add (global.get $heap) (local.get $len)) (i32.const 65536)) (then (global.set $heap (i32.const 4096))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "forge_free") (param i32 i32))`;

/** The error flag of a packed result (docs/reference/abi.md, "The packed result"). */
const ERROR_FLAG = '0x80000000';

/** A static error payload `code\nmessage` at `address`, and the packed result returning it (error + keep flags). */
function staticError(address: number, code: string, message: string): { data: string; result: string } {
  const text = `${code}\n${message}`;
  const packed = (BigInt(address) << 32n) | 0x8000_0000n | 0x4000_0000n | BigInt(text.length);
  return { data: `(data (i32.const ${address}) "${text.replace('\n', '\\0a')}")`, result: `(i64.const 0x${packed.toString(16)})` };
}

/**
 * The well-behaved plugin: `work` asks the host for the time once (forge.time_now: one
 * host call, so one audit record at audit level `all`) and answers its input. An error
 * answer from the host is passed on, so a refused host call fails the call.
 */
export const GOOD_GUEST = `(module
  (import "forge" "time_now" (func $time (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${ALLOCATOR}
  (func (export "work") (param $p i32) (param $len i32) (result i64) (local $r i64)
    (local.set $r (call $time (i32.const 0) (i32.const 0)))
    (if (i64.ne (i64.and (local.get $r) (i64.const ${ERROR_FLAG})) (i64.const 0)) (then (return (local.get $r))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $len)))))`;

const memoryFull = staticError(64, 'E_MEMORY_LIMIT', 'memory.grow returned -1');
const tableFull = staticError(128, 'E_TABLE_LIMIT', 'table.grow returned -1');

/** What a hostile plugin's calls must fail with on one backend. */
export interface Expected {
  /** The ForgeError code; for FO_ABI_GUEST_ERROR, `FO_ABI_GUEST_ERROR/<the guest's code>`. */
  readonly code: string;
  /** Another limit that may stop it first (the flooder's wall clock, where its host calls are slow). */
  readonly or?: string;
  /** True when the plugin cannot even be loaded there (`code` is then the load's refusal). */
  readonly refusedAtLoad?: boolean;
}

/** One hostile plugin: its module, what plugin.toml adds, and the limit meant to stop it. */
export interface HostileGuest {
  readonly name: string;
  /** What it does, for reports. */
  readonly does: string;
  /** The limit meant to stop it, for reports. */
  readonly limit: string;
  readonly wat: string;
  /** Appended to plugin.toml. */
  readonly toml: string;
  /** The answer of that limit, per backend. */
  readonly expected: Readonly<Record<LoadBackend, Expected>>;
  /**
   * Pause between two of its calls, in ms, when it must be slower than the load's default
   * (the host decides how often it calls a plugin; the flooder's every call writes thousands
   * of audit records).
   */
  readonly pauseMs?: number;
}

const everywhere = (code: string): Readonly<Record<LoadBackend, Expected>> => ({ inline: { code }, pool: { code }, process: { code } });

/** The hostile neighbours, one per way of hurting a host. */
export const HOSTILE_GUESTS: readonly HostileGuest[] = [
  {
    name: 'hostile-spin',
    does: 'loops forever without a host call',
    limit: 'fuel (runtime.fuel_per_call)',
    wat: `(module (memory (export "memory") 1) ${ALLOCATOR}
      (func (export "work") (param i32 i32) (result i64) (loop $l (br $l)) (i64.const 0)))`,
    toml: '',
    expected: everywhere('FO_SANDBOX_CPU_LIMIT'),
  },
  {
    name: 'hostile-memory',
    does: 'grows its memory until memory.grow fails, on every call',
    limit: 'the memory cap (sandbox.memory_limit): memory.grow returns -1',
    wat: `(module (memory (export "memory") 1) ${ALLOCATOR} ${memoryFull.data}
      (func (export "work") (param i32 i32) (result i64)
        (loop $mib (br_if $mib (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
        (loop $page (br_if $page (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        ${memoryFull.result}))`,
    toml: '',
    expected: everywhere('FO_ABI_GUEST_ERROR/E_MEMORY_LIMIT'),
  },
  {
    name: 'hostile-syscalls',
    does: 'calls forge.time_now (allowed, unlimited) in an endless loop, ignoring the answers',
    limit: 'fuel (runtime.fuel_per_call): every host call costs HOST_CALL_FUEL (1,000 units), so a call makes at most fuel_per_call / 1,000 of them',
    wat: `(module (import "forge" "time_now" (func $time (param i32 i32) (result i64))) (memory (export "memory") 1) ${ALLOCATOR}
      (func (export "work") (param i32 i32) (result i64) (loop $l (drop (call $time (i32.const 0) (i32.const 0))) (br $l)) (i64.const 0)))`,
    toml: '',
    expected: everywhere('FO_SANDBOX_CPU_LIMIT'),
    pauseMs: 500,
  },
  {
    name: 'hostile-log',
    does: 'calls forge.log until it is refused, and returns the refusal',
    limit: "forge.log's rate (limits.rates.log: 200/s, bursts of 1,000)",
    wat: `(module (import "forge" "log" (func $log (param i32 i32) (result i64))) (memory (export "memory") 1) ${ALLOCATOR}
      (data (i32.const 0) "\\02flood")
      (func (export "work") (param i32 i32) (result i64) (local $r i64)
        (loop $l
          (local.set $r (call $log (i32.const 0) (i32.const 6)))
          (br_if $l (i64.eqz (i64.and (local.get $r) (i64.const ${ERROR_FLAG})))))
        (local.get $r)))`,
    toml: '',
    expected: everywhere('FO_ABI_GUEST_ERROR/FO_SYSCALL_RATE_LIMITED'),
  },
  {
    name: 'hostile-table',
    does: 'grows a table without a maximum until table.grow fails, on every call',
    limit: 'the table cap (sandbox.max_table_elements, at most 100,000 per table): table.grow returns -1',
    wat: `(module (memory (export "memory") 1) (table $t 1 funcref) ${ALLOCATOR} ${tableFull.data}
      (func (export "work") (param i32 i32) (result i64)
        (loop $many (br_if $many (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1))))
        (loop $one (br_if $one (i32.ne (table.grow $t (ref.null func) (i32.const 1)) (i32.const -1))))
        ${tableFull.result}))`,
    toml: '',
    expected: everywhere('FO_ABI_GUEST_ERROR/E_TABLE_LIMIT'),
  },
  {
    name: 'hostile-wait',
    does: 'waits forever on its shared memory (memory.atomic.wait32, no timeout); permissions.threads granted',
    limit: 'inline: refused at load (it could block the host thread); pool and process: the wall clock (default_timeout), its worker or sandbox replaced',
    wat: `(module (memory (export "memory") 1 1 shared) ${ALLOCATOR}
      (func (export "work") (param i32 i32) (result i64) (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))) (i64.const 0)))`,
    toml: '[permissions]\nthreads = true\n',
    expected: { inline: { code: 'FO_SANDBOX_INLINE_MAY_BLOCK', refusedAtLoad: true }, pool: { code: 'FO_SANDBOX_TIMEOUT' }, process: { code: 'FO_SANDBOX_TIMEOUT' } },
  },
];
