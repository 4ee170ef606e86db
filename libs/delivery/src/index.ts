export { backoffMs, nextRetry, DEFAULT_RETRY_POLICY, type RetryDecision, type RetryPolicy } from './retry-policy';
export { httpOutcome, withAttempt, type AttemptOutcome } from './outcome';
export { attemptDetail, endpointOf, responseStart, RESPONSE_START_BYTES, type AttemptDetail } from './attempt-detail';
export { CONTENT_TYPES } from './content-types';
export {
  decide,
  neverReached,
  probeDelayMs,
  stateOf,
  DEFAULT_PROBE_POLICY,
  HEALTHY,
  type HealthDecision,
  type HealthEvent,
  type ProbePolicy,
  type RecipientHealth,
  type RecipientState,
} from './recipient-health';
