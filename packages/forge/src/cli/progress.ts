/**
 * Upload progress for people: one line on stderr rewritten in place (`\r`), only when
 * stderr is a terminal and the command is not printing JSON, so logs and pipes never
 * see it. The line is redrawn only when the whole percentage changes.
 */
import type { CliIo } from './command.js';
import { sanitizeForTerminal } from './terminal.js';

/** A progress line. */
export interface Progress {
  /** Reports bytes sent of the total; at the total the line ends with `finished`. */
  update(sent: number, total: number): void;
  /** Ends the line if it was drawn and did not reach the total (the upload failed). */
  done(): void;
}

const SILENT: Progress = { update: () => undefined, done: () => undefined };

/** `1536` -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

/**
 * A progress line labelled `label` (sanitised) that says `finished` once everything is
 * sent, or one that draws nothing when stderr is not a terminal or `json` is set.
 */
export function uploadProgress(io: CliIo, label: string, finished: string, json: boolean): Progress {
  if (json || io.stderr.isTTY !== true) return SILENT;
  const safe = sanitizeForTerminal(label);
  let shown = -1;
  let ended = false;
  return {
    update(sent, total) {
      const percent = Math.floor((sent / Math.max(total, 1)) * 100);
      if (percent === shown || ended) return;
      shown = percent;
      // \r returns to the start of the line; ESC [ K clears what a longer line left behind.
      io.stderr.write(`\r${safe}: ${percent}% (${formatBytes(sent)} of ${formatBytes(total)})\u001b[K`);
      if (sent >= total) {
        ended = true;
        io.stderr.write(`, ${finished}\n`);
      }
    },
    done() {
      if (shown !== -1 && !ended) io.stderr.write('\n');
      ended = true;
    },
  };
}
