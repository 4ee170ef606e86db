import type { CanonicalMessage } from './generated/canonical';
import { problemsFromAjv } from './ajv-problems';
import { formatPath, type Problem, type Result } from './problem';
import { crossFieldProblems, pathsOf } from './rules';
import { canonicalValidator } from './schemas';

/**
 * Validates a draft canonical message against schemas/ and the rules beyond them, reporting every
 * problem at once. `earlier` are problems a dialect reader already found; a field keeps only its
 * first problem. The draft is taken over: unknown keys are removed from it.
 */
export function validateCanonical(draft: unknown, earlier: readonly Problem[] = []): Result<CanonicalMessage> {
  if (typeof draft === 'object' && draft !== null && !Array.isArray(draft)) {
    const record = draft as Record<string, unknown>;
    // The contract: a patient in an acknowledgement is ignored.
    if (record['type'] === 'acknowledgement') delete record['patient'];
  }
  const validate = canonicalValidator();
  const schemaOk = validate(draft);
  const problems = [...earlier, ...(schemaOk ? [] : problemsFromAjv(validate.errors ?? []))];
  if (typeof draft === 'object' && draft !== null && !Array.isArray(draft)) {
    problems.push(...crossFieldProblems(draft as Record<string, unknown>, pathsOf(problems)));
  }
  const unique = inDocumentOrder(firstPerPath(problems));
  if (unique.length > 0) return { ok: false, problems: unique };
  return { ok: true, value: draft as CanonicalMessage };
}

/** One problem per field: the first found; none below a field that already has one. */
function firstPerPath(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const p of problems) {
    const covered = p.path.some((_, i) => seen.has(formatPath(p.path.slice(0, i + 1))));
    if (covered) continue;
    seen.add(formatPath(p.path));
    out.push(p);
  }
  return out;
}

const TOP_LEVEL_ORDER = ['messageId', 'type', 'episodeId', 'sentAt', 'sender', 'recipients', 'patient', 'body'];

/** Problems sorted by where their field stands in the message (whole-document problems first); stable otherwise. */
function inDocumentOrder(problems: Problem[]): Problem[] {
  const rank = (p: Problem) => (p.path.length === 0 ? -1 : TOP_LEVEL_ORDER.indexOf(String(p.path[0])));
  return problems
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(({ p }) => p);
}
