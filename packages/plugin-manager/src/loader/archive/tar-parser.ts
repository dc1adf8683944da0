import { ForgeError, describeValue } from '@forgeone/common';
import { EntryChecker, type CheckedHeader } from './entry-checks.js';
import type { ArchiveLimits } from './limits.js';
import { BLOCK_SIZE, isAllZero } from './ustar.js';

/** What a chunk of tar stream completes: an entry opens, some of its data, it closes. */
export type TarEvent =
  | { readonly kind: 'begin'; readonly header: CheckedHeader }
  | { readonly kind: 'data'; readonly chunk: Uint8Array }
  | { readonly kind: 'end' };

type State = 'header' | 'data' | 'padding' | 'second-zero-block' | 'after-end';

/**
 * An incremental parser of a ustar stream: feed it decompressed bytes in chunks of any
 * size, and it yields the events each chunk completes. Holds at most one header block
 * of its own; data events are views into the chunk they came from.
 *
 * The archive must end with two zero blocks; anything after them (tar's record
 * padding) must be zero too. Every header goes through {@link EntryChecker}.
 */
export class TarParser {
  readonly #checker: EntryChecker;
  readonly #block = Buffer.alloc(BLOCK_SIZE);
  #blockFill = 0;
  #state: State = 'header';
  /** Bytes consumed so far: the offset in the tar stream of the next byte. */
  #offset = 0;
  /** In 'data', bytes of the entry still to come; in 'padding', bytes to skip. */
  #remaining = 0;
  #entry: CheckedHeader | undefined;

  constructor(limits: ArchiveLimits) {
    this.#checker = new EntryChecker(limits);
  }

  /**
   * Consumes `chunk`, yielding the events it completes in order. Lazy: a header is only
   * checked when the consumer asks for the next event, so failures surface in archive
   * order, after the consumer has handled every earlier entry. Consume it to the end
   * before the next push.
   * @throws ForgeError the codes of {@link EntryChecker.check}; FO_PACKAGE_CORRUPT when a
   *   lone zero block is followed by a header; FO_PACKAGE_TRAILING_DATA when a non-zero
   *   byte follows the end-of-archive marker.
   */
  *push(chunk: Uint8Array): Generator<TarEvent, void, undefined> {
    let pos = 0;
    while (pos < chunk.length) {
      const available = chunk.length - pos;
      switch (this.#state) {
        case 'header':
        case 'second-zero-block': {
          const start = this.#offset - this.#blockFill;
          let block: Uint8Array;
          if (this.#blockFill === 0 && available >= BLOCK_SIZE) {
            block = chunk.subarray(pos, pos + BLOCK_SIZE);
            pos += BLOCK_SIZE;
            this.#offset += BLOCK_SIZE;
          } else {
            // A block split across chunks is gathered in our own buffer.
            const take = Math.min(BLOCK_SIZE - this.#blockFill, available);
            this.#block.set(chunk.subarray(pos, pos + take), this.#blockFill);
            this.#blockFill += take;
            pos += take;
            this.#offset += take;
            if (this.#blockFill < BLOCK_SIZE) break;
            this.#blockFill = 0;
            block = this.#block;
          }
          yield* this.#onBlock(block, start);
          break;
        }
        case 'data': {
          const take = Math.min(this.#remaining, available);
          yield { kind: 'data', chunk: chunk.subarray(pos, pos + take) };
          pos += take;
          this.#offset += take;
          this.#remaining -= take;
          if (this.#remaining === 0) yield this.#endEntry();
          break;
        }
        case 'padding': {
          const take = Math.min(this.#remaining, available);
          pos += take;
          this.#offset += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = 'header';
          break;
        }
        case 'after-end': {
          const rest = chunk.subarray(pos);
          const stray = rest.findIndex((byte) => byte !== 0);
          if (stray !== -1) {
            const offset = this.#offset + stray;
            throw new ForgeError('FO_PACKAGE_TRAILING_DATA', `tar stream: expected only zero padding after the end-of-archive marker, found a non-zero byte at offset ${offset}`, {
              details: { offset },
            });
          }
          pos = chunk.length;
          this.#offset += rest.length;
          break;
        }
      }
    }
  }

  /**
   * Declares that the stream has ended.
   * @throws ForgeError FO_PACKAGE_TRUNCATED when an entry is cut short or the
   *   end-of-archive marker (two zero blocks) is missing.
   */
  finish(): void {
    if (this.#state === 'after-end') return;
    const offset = this.#offset;
    const entry = this.#entry?.path;
    const found =
      this.#state === 'data'
        ? `the stream ends inside entry ${describeValue(entry)} with ${this.#remaining} of its bytes to come`
        : this.#state === 'padding'
          ? `the stream ends inside the block padding of entry ${describeValue(entry)}`
          : this.#blockFill > 0
            ? `the stream ends inside a ${this.#blockFill}-byte partial block`
            : this.#state === 'second-zero-block'
              ? 'only one of the two zero blocks'
              : 'no end-of-archive marker';
    throw new ForgeError('FO_PACKAGE_TRUNCATED', `tar stream: expected two zero blocks ending the archive, found ${found} (at offset ${offset})`, {
      details: this.#state === 'data' ? { entry, offset, missing: this.#remaining } : { offset },
    });
  }

  *#onBlock(block: Uint8Array, offset: number): Generator<TarEvent, void, undefined> {
    if (isAllZero(block)) {
      this.#state = this.#state === 'header' ? 'second-zero-block' : 'after-end';
      return;
    }
    if (this.#state === 'second-zero-block') {
      throw new ForgeError('FO_PACKAGE_CORRUPT', `tar stream: expected a second zero block ending the archive at offset ${offset}, found a non-zero block after a lone zero block`, {
        details: { offset },
      });
    }
    const header = this.#checker.check(block, offset);
    this.#entry = header;
    this.#remaining = header.size;
    this.#state = 'data';
    yield { kind: 'begin', header };
    if (header.size === 0) yield this.#endEntry();
  }

  #endEntry(): TarEvent {
    const size = this.#entry?.size ?? 0;
    this.#remaining = (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
    this.#state = this.#remaining === 0 ? 'header' : 'padding';
    return { kind: 'end' };
  }
}
