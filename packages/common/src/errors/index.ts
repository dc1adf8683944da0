export { ERROR_KINDS, ERROR_KIND_MEANING, EXIT_CODES, HTTP_STATUS, type ErrorKind } from './kinds.js';
export type { ErrorSpec } from './spec.js';
export { ERROR_AREAS, ERROR_CATALOG, isErrorCode, type ErrorArea, type ErrorCode } from './catalog.js';
export {
  ForgeError,
  toForgeError,
  type ErrorDetails,
  type ForgeErrorJSON,
  type ForgeErrorOptions,
} from './forge-error.js';
export { fromFsError, isNodeSystemError, type NodeSystemError } from './node-errors.js';
export { renderErrorReference } from './reference.js';
