export { ALLOW_ALL_GATE, type HostCallDenial, type HostCallGate } from './gate.js';
