/**
 * `forge.log`: a plugin writes one record to the host's log.
 *
 * Request: one level byte, then the message in UTF-8.
 *
 * | byte | level |
 * | --- | --- |
 * | 0 | trace |
 * | 1 | debug |
 * | 2 | info |
 * | 3 | warn |
 * | 4 | error |
 *
 * Result: empty on success. Errors: FO_ABI_BAD_REQUEST (empty request, unknown level),
 * FO_ABI_INPUT_TOO_LARGE (more than {@link FORGE_LOG_MAX_MESSAGE_BYTES} bytes of
 * message), FO_ABI_HOST_DENIED (policy). Ill-formed UTF-8 is logged as U+FFFD.
 *
 * The record goes to the binding's logger at that level, with the field
 * `source: "forge.log"`; the message is the plugin's text, unescaped, so whatever prints
 * it to a terminal must sanitise it (the CLI does).
 */
import { ForgeError } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from './host-functions.js';

/** Log levels by their byte in a forge.log request. */
export const FORGE_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Longest message forge.log accepts, in bytes (16 KiB). */
export const FORGE_LOG_MAX_MESSAGE_BYTES = 16 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

/** The forge.log host function, to {@link HostFunctionRegistry.define}. */
export const forgeLog: HostFunctionDefinition = Object.freeze({
  name: 'log',
  maxRequestBytes: 1 + FORGE_LOG_MAX_MESSAGE_BYTES,
  handler(request: Uint8Array, { call, logger }: HostCallContext): Uint8Array {
    const levelByte = request[0];
    const level = levelByte === undefined ? undefined : FORGE_LOG_LEVELS[levelByte];
    if (level === undefined) {
      throw new ForgeError(
        'FO_ABI_BAD_REQUEST',
        levelByte === undefined
          ? `${call}: expected a level byte (0 trace to 4 error) and a message, found an empty request`
          : `${call}: expected a level byte from 0 (trace) to 4 (error), found ${levelByte}`,
        { details: { call, level: levelByte ?? null } },
      );
    }
    logger[level](decoder.decode(request.subarray(1)), { source: call });
    return EMPTY;
  },
});
