export { ALLOW_ALL_GATE, type HostCallAccess, type HostCallDenial, type HostCallGate } from './gate.js';
