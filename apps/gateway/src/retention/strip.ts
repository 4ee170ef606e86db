/** What a pruned message keeps of its patient: nothing that identifies them (docs/retention.md). */
const PATIENT_KEPT = new Set(['idType', 'municipality', 'protectedIdentity']);
/** Free text and names anywhere in the body (an admission's reason is health information): they may name or describe the patient. */
const BODY_DROPPED = new Set(['reason', 'text', 'subject', 'title', 'location', 'name', 'givenName', 'familyName', 'note', 'comment']);

function dropKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !BODY_DROPPED.has(k)).map(([k, v]) => [k, dropKeys(v)]));
}

/**
 * The canonical form of a message whose payload retention has run out: the envelope (ids, type,
 * sender, recipients, times), the patient's municipality and identity type, and the body without
 * free text or names — what the follow-up reports read, and nothing that identifies the patient.
 */
export function withoutPersonalData(canonical: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...canonical };
  const patient = canonical['patient'];
  if (patient !== null && typeof patient === 'object') {
    out['patient'] = Object.fromEntries(Object.entries(patient as Record<string, unknown>).filter(([k]) => PATIENT_KEPT.has(k)));
  }
  if ('body' in canonical) out['body'] = dropKeys(canonical['body']);
  return out;
}
