export { resolveDependencies, startOrder, type Candidate, type CandidateSource, type Resolution, type ResolveOptions } from './resolver.js';
