export * from './generated/canonical';
export { formatPath, formatProblem, problem, type PathSegment, type Problem, type ProblemCode, type Result } from './problem';
export { validateCanonical } from './validate';
export { createAjv, CANONICAL_SCHEMAS } from './schemas';
export { problemsFromAjv, pointerToPath } from './ajv-problems';
export { fileReadError, jsonSyntaxError, lineAndColumn, problemsLine } from './config-text';
export { dayZero, inspectMessage, notifyBy, NOTIFY_WITHIN_HOURS, type Inspection } from './deadlines';
