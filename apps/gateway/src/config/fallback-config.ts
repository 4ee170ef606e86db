import { readFileSync } from 'node:fs';
import { isoDurationMs } from '@svu/swedish-time';
import { createAjv, fileReadError, formatProblem, jsonSyntaxError, pointerToPath, problem, problemsFromAjv, problemsLine, type MessageType, type Problem } from '@svu/canonical';
import fallbackSchema from '../../../../schemas/fallback.schema.json';
import { LONGEST_DURATION } from './duration-limits';

/** Message types that fall back after a time counted from acceptance (admissions use notifyBy; acknowledgements never fall back). */
export const TIMED_FALLBACK_TYPES = ['discharge-estimate', 'care-contact', 'sip-invitation', 'ready-for-discharge', 'discharged', 'message', 'cancellation'] as const;
export type TimedFallbackType = (typeof TIMED_FALLBACK_TYPES)[number] & MessageType;

/**
 * Defaults from the agreements (README, Deadlines, fallback documents and day 0): a ready notice starts day 0 and the municipality's payment
 * liability, and a discharge and a SIP invitation are needed on the day, so they fall back after 2 h;
 * the others after 4 h.
 */
export const DEFAULT_FALLBACK_AFTER: Readonly<Record<TimedFallbackType, string>> = {
  'ready-for-discharge': 'PT2H',
  discharged: 'PT2H',
  'sip-invitation': 'PT2H',
  'discharge-estimate': 'PT4H',
  'care-contact': 'PT4H',
  message: 'PT4H',
  cancellation: 'PT4H',
};

/** Per type, how long after acceptance a copy not yet delivered electronically gets its fallback document (ms). */
export type FallbackDelays = Readonly<Record<TimedFallbackType, number>>;

const validate = createAjv({ removeUnknown: false }).compile<{ afterAcceptance: Partial<Record<TimedFallbackType, string>> }>(fallbackSchema);

/** An ISO 8601 duration the schema's pattern let through, in ms (a day is 24 elapsed hours). */
function toMs(value: string): number {
  return isoDurationMs(value);
}

/** Checks a fallback configuration's text against schemas/fallback.schema.json; problems name the field. */
export function parseFallbackConfig(text: string): { ok: true; value: FallbackDelays } | { ok: false; problems: Problem[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [problem('document', [], jsonSyntaxError(text, error))] };
  }
  if (!validate(json)) {
    // An unknown key is named at its own path (a misspelt type would otherwise silently keep its default).
    const errors = validate.errors ?? [];
    const unknown = errors.flatMap((e) =>
      e.keyword === 'additionalProperties' ? [problem('rule', [...pointerToPath(e.instancePath), String((e.params as { additionalProperty: unknown }).additionalProperty)], 'is not a known key')] : [],
    );
    return { ok: false, problems: [...unknown, ...problemsFromAjv(errors.filter((e) => e.keyword !== 'additionalProperties'))] };
  }
  const given = json.afterAcceptance;
  const delays = Object.fromEntries(
    TIMED_FALLBACK_TYPES.map((type) => [type, toMs(given[type] ?? DEFAULT_FALLBACK_AFTER[type])]),
  ) as Record<TimedFallbackType, number>;
  const tooLong = TIMED_FALLBACK_TYPES.filter((type) => delays[type] > LONGEST_DURATION.ms);
  if (tooLong.length > 0) return { ok: false, problems: tooLong.map((type) => problem('rule', ['afterAcceptance', type], `must be at most ${LONGEST_DURATION.text}`)) };
  return { ok: true, value: delays };
}

/**
 * Reads the fallback configuration (SVU_FALLBACK_CONFIG, default config/fallback.json). The default
 * file missing means the defaults; a file that is not valid stops the start with one line naming the
 * file and the fields (or where it stops being JSON).
 */
export function loadFallbackDelays(path: string, explicit: boolean): FallbackDelays {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // The default path may be absent (defaults); a path someone set must exist.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return parseDefaults();
    throw new Error(`fallback configuration ${path} (SVU_FALLBACK_CONFIG): ${fileReadError(error)}`);
  }
  const parsed = parseFallbackConfig(text);
  if (!parsed.ok) throw new Error(`fallback configuration ${path} (SVU_FALLBACK_CONFIG): ${problemsLine(parsed.problems.map((p) => (p.path.length === 0 ? p.message : formatProblem(p))))}`);
  return parsed.value;
}

function parseDefaults(): FallbackDelays {
  const parsed = parseFallbackConfig(JSON.stringify({ afterAcceptance: {} }));
  if (!parsed.ok) throw new Error('the default fallback configuration is invalid');
  return parsed.value;
}
