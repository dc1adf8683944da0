import type { ErrorKind } from './kinds.js';

/** One catalog entry: the code's kind and a one-line summary for the reference docs. */
export interface ErrorSpec {
  readonly kind: ErrorKind;
  readonly summary: string;
}
