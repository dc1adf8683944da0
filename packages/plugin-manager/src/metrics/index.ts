export { StartupTimer } from './startup-timer.js';
