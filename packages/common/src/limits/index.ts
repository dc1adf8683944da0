export { checkLimitOption, checkPositiveLimit, invalidLimits, limitProblem, positiveLimitProblem, type LimitRange } from './limit-option.js';
