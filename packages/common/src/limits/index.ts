export { checkLimitOption, checkPositiveLimit, invalidLimits, limitProblem, positiveLimitProblem, resolveLimits, type LimitRange, type LimitRule } from './limit-option.js';
