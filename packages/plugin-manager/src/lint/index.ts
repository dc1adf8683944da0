export { lintPlugin, type LintOptions, type LintResult } from './lint.js';
export { LintReport, type LintProblem, type LintSeverity } from './problems.js';
export { lintModule, type ModuleLintOptions } from './module.js';
