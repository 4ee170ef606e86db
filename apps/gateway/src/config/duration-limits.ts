/**
 * The longest duration any setting takes (a timer's are shorter: P24D): 100 years. Longer ones
 * would carry the store's timestamps out of their range, and are a slip of the keyboard.
 */
export const LONGEST_DURATION = { ms: 36_500 * 86_400_000, text: 'P36500D (100 years)' } as const;

/** The longest timer Node keeps (about 24.8 days); a longer one fires at once, every millisecond. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest duration of a setting that a timer waits for. */
export const LONGEST_TIMER = { ms: MAX_TIMER_MS, text: 'P24D (a timer waits no longer)' } as const;
