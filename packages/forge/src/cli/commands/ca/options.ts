/**
 * Flag parsing shared by the key and ca commands: whole numbers in a range and the
 * key algorithm, each refused with FO_CLI_FLAG_VALUE naming the flag.
 */
import { ForgeError } from '@forgeone/common';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '@forgeone/plugin-manager/signing';
import { badFlagValue } from '../../flag-value.js';

/** The `--algorithm` flag of keygen and ca init. */
export const ALGORITHM_FLAG = {
  name: 'algorithm',
  type: 'string',
  value: 'ALG',
  description: `Key algorithm: ${SIGNING_ALGORITHMS.join(' or ')} (default: ed25519, whose signatures are deterministic).`,
} as const;

/**
 * A whole number from a flag, or undefined when the flag is absent.
 * @throws ForgeError FO_CLI_FLAG_VALUE
 */
export function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw badFlagValue(flag, `a whole number from ${min} to ${max}`, value);
  }
  return parsed;
}

/**
 * The `--algorithm` value.
 * @throws ForgeError FO_CLI_FLAG_VALUE
 */
export function algorithm(value: string | undefined): SigningAlgorithm {
  if (value === undefined) return 'ed25519';
  if ((SIGNING_ALGORITHMS as readonly string[]).includes(value)) return value as SigningAlgorithm;
  throw badFlagValue('algorithm', SIGNING_ALGORITHMS.join(' or '), value);
}

/**
 * The value of a flag the spec marks required. The parser already refuses a missing
 * one; this narrows the type and keeps that promise checked.
 * @throws ForgeError FO_CLI_MISSING_ARGUMENT
 */
export function requiredFlag(name: string, value: string | undefined): string {
  if (value === undefined) throw new ForgeError('FO_CLI_MISSING_ARGUMENT', `--${name} is required`, { details: { flag: name } });
  return value;
}
