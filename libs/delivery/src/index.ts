export { backoffMs, nextRetry, DEFAULT_RETRY_POLICY, type RetryDecision, type RetryPolicy } from './retry-policy';
export { httpOutcome, type AttemptOutcome } from './outcome';
export { CONTENT_TYPES } from './content-types';
