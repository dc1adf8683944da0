/**
 * A child process for the crash test: a relay plugin stores `count` values through
 * forge.kv_set (value i is "value-i" repeated i+1 times), prints "written", then kills
 * itself with SIGKILL: no close, no WAL checkpoint, no exit handlers.
 * Usage: node kv-child.js DIRECTORY COUNT
 */
import { ALLOW_ALL_GATE } from '@forgeone/common';
import { instantiateAbi } from '../../abi/index.js';
import { createForgeHostFunctions } from '../forge-host.js';
import { relayModule } from './guests.js';
import { kvSet } from './plugin.js';

const [directory = '', countText = '0'] = process.argv.slice(2);
const host = createForgeHostFunctions({ plugin: 'acme/tester@1.0.0', gate: ALLOW_ALL_GATE, kvDirectory: directory });
const plugin = instantiateAbi(await relayModule(), { gate: ALLOW_ALL_GATE, hostFunctions: host.registry() });
for (let i = 0; i < Number(countText); i += 1) plugin.call('kv_set', kvSet(`key-${i}`, `value-${i}`.repeat(i + 1)));
process.stdout.write('written\n', () => process.kill(process.pid, 'SIGKILL'));
