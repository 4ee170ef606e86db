import { identityProblem, type IdentityKind } from '@svu/identity';
import { isInstant, swedishDate } from '@svu/swedish-time';
import { formatPath, problem, type Problem } from './problem';

type Json = Record<string, unknown>;

/**
 * The rules of the contract (docs/contract.md) that JSON Schema cannot express: identity numbers (dates, not born after
 * sending, birth number not 000, Luhn; docs/identity-numbers.md), time order in an admission, and
 * recipients named twice. Runs on a message that has passed the schema except at the paths in
 * `invalid`, whose values it leaves alone.
 */
export function crossFieldProblems(message: Json, invalid: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  const ok = (path: string): boolean => !invalid.has(path);
  const sentAt = typeof message['sentAt'] === 'string' && isInstant(message['sentAt']) ? message['sentAt'] : undefined;

  const recipients = Array.isArray(message['recipients']) ? (message['recipients'] as Json[]) : [];
  const seen = new Set<unknown>();
  recipients.forEach((recipient, i) => {
    const hsaId = recipient?.['hsaId'];
    if (typeof hsaId !== 'string') return;
    if (seen.has(hsaId)) out.push(problem('duplicate', ['recipients', i, 'hsaId'], 'names a recipient already listed'));
    seen.add(hsaId);
  });

  const patient = message['patient'] as Json | undefined;
  if (patient !== undefined && ok('patient.id') && ok('patient.idType')) {
    const kind = patient['idType'] as IdentityKind;
    const id = patient['id'];
    if (typeof id === 'string') {
      const reason = identityProblem(kind, id, sentAt === undefined ? undefined : swedishDate(sentAt));
      if (reason !== undefined) out.push(problem('rule', ['patient', 'id'], reason));
    }
  }

  const body = message['body'] as Json | undefined;
  if (message['type'] === 'admission' && body !== undefined && ok('body.admittedAt')) {
    const admittedAt = body['admittedAt'] as string | undefined;
    if (admittedAt !== undefined) {
      const assessedAt = body['assessedAt'] as string | undefined;
      if (assessedAt !== undefined && ok('body.assessedAt') && assessedAt < admittedAt) {
        out.push(problem('rule', ['body', 'assessedAt'], 'must not be before admittedAt'));
      }
      const estimate = body['estimatedDischargeDate'] as string | undefined;
      if (estimate !== undefined && ok('body.estimatedDischargeDate') && estimate < swedishDate(admittedAt)) {
        out.push(
          problem('rule', ['body', 'estimatedDischargeDate'], 'must not be before the Swedish date of admittedAt'),
        );
      }
    }
  }
  return out;
}

/** The set of formatted paths that already have a problem. */
export function pathsOf(problems: readonly Problem[]): Set<string> {
  return new Set(problems.map((p) => formatPath(p.path)));
}
