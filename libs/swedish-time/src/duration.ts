import { Temporal } from '@js-temporal/polyfill';

/**
 * An ISO 8601 duration (`PT2H`, `PT0.5S`, `P1D`) in milliseconds; a day is 24 elapsed hours. Throws
 * on text that is not a duration (the caller names the setting or field).
 */
export function isoDurationMs(iso: string): number {
  return Temporal.Duration.from(iso).total({ unit: 'milliseconds', relativeTo: '2020-01-01T00:00:00+00:00[UTC]' });
}
