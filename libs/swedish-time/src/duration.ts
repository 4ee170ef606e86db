const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * The one reading of ISO 8601 durations in the code base (settings, the fallback file, fixture
 * manifests), in fixed lengths whatever the calendar: a day is 24 elapsed hours, a week 7 days, a
 * month (`P1M`) 30 days and a year (`P1Y`) 365 days (README, Configuration). Date parts are whole
 * numbers; the smallest time part given may have a fraction (`PT0.5S`, `PT1.5H`).
 */
const DURATION = /^([+\-\u2212])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)(?:[.,](\d{1,9}))?H)?(?:(\d+)(?:[.,](\d{1,9}))?M)?(?:(\d+)(?:[.,](\d{1,9}))?S)?)?$/i;

const PARTS = [
  { whole: 2, length: 365 * DAY_MS },
  { whole: 3, length: 30 * DAY_MS },
  { whole: 4, length: 7 * DAY_MS },
  { whole: 5, length: DAY_MS },
  { whole: 6, fraction: 7, length: HOUR_MS },
  { whole: 8, fraction: 9, length: MINUTE_MS },
  { whole: 10, fraction: 11, length: SECOND_MS },
] as const;

/**
 * An ISO 8601 duration (`PT2H`, `PT0.5S`, `P1D`, `P1M`) in milliseconds, in the fixed lengths above.
 * Throws on text that is not a duration (the caller names the setting or field). A duration too long
 * for any setting still reads (as a very large number, or Infinity): the caller's maximum refuses it.
 */
export function isoDurationMs(iso: string): number {
  const match = DURATION.exec(iso);
  const given = match === null ? [] : PARTS.filter((p) => match[p.whole] !== undefined);
  const time = iso.toUpperCase().indexOf('T');
  const timeParts = given.filter((p) => p.length < DAY_MS);
  if (match === null || given.length === 0 || (time >= 0 && timeParts.length === 0)) throw new RangeError(`not an ISO 8601 duration: ${JSON.stringify(iso)}`);
  // Only the smallest part given may have a fraction (PT1.5H30M is not a duration).
  if (timeParts.slice(0, -1).some((p) => 'fraction' in p && match[p.fraction] !== undefined)) throw new RangeError(`not an ISO 8601 duration: ${JSON.stringify(iso)}`);
  let ms = 0;
  for (const part of given) {
    ms += Number(match[part.whole]) * part.length;
    const fraction = 'fraction' in part ? match[part.fraction] : undefined;
    if (fraction !== undefined) ms += (Number(fraction.padEnd(9, '0')) * part.length) / 1e9;
  }
  return match[1] === undefined || match[1] === '+' || ms === 0 ? ms : -ms;
}
