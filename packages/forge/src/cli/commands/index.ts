import type { Command } from '../command.js';
import { configCheck } from './config/check.js';
import { inspect } from './package/inspect.js';
import { pack } from './package/pack.js';

/** Every command, in the order `forge --help` lists them. */
export const COMMANDS: readonly Command[] = [pack, inspect, configCheck];
