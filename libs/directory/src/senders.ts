import { createAjv, problem, type Problem, type Result } from '@svu/canonical';
import codes from '../../../schemas/codes.schema.json';
import sendersSchema from '../../../schemas/senders.schema.json';
import { parseConfigJson } from './config-file';
import type { SenderLimits, SenderSystem, SenderSystems } from './generated/senders';

export type { SenderLimits, SenderSystem, SenderSystems };

const ajv = createAjv({ removeUnknown: false });
ajv.addSchema(codes);
const validate = ajv.compile<SenderSystems>(sendersSchema);

const CREDENTIALS = ['keyHash', 'certificateSubject', 'certificateFingerprint', 'amqpUser'] as const;

/** The sender systems in force, found by each kind of credential (docs/senders.md). */
export class SenderRegistry {
  private readonly byId: ReadonlyMap<string, SenderSystem>;
  private readonly byAmqpUser: ReadonlyMap<string, SenderSystem>;
  private readonly bySubject: ReadonlyMap<string, SenderSystem>;
  private readonly byFingerprint: ReadonlyMap<string, SenderSystem>;

  constructor(readonly senders: readonly SenderSystem[]) {
    this.byId = new Map(senders.map((s) => [s.id, s]));
    this.byAmqpUser = new Map(senders.flatMap((s) => (s.amqpUser === undefined ? [] : [[s.amqpUser, s] as const])));
    this.bySubject = new Map(senders.flatMap((s) => (s.certificateSubject === undefined ? [] : [[s.certificateSubject, s] as const])));
    this.byFingerprint = new Map(senders.flatMap((s) => (s.certificateFingerprint === undefined ? [] : [[s.certificateFingerprint, s] as const])));
  }

  get size(): number {
    return this.byId.size;
  }

  byIdentifier(id: string): SenderSystem | undefined {
    return this.byId.get(id);
  }

  /** The system a bearer key (`<id>.<secret>`) claims to be; the key itself is checked against its hash elsewhere. */
  claimedByKey(key: string): SenderSystem | undefined {
    const dot = key.indexOf('.');
    if (dot <= 0) return undefined;
    const system = this.byId.get(key.slice(0, dot));
    return system?.keyHash === undefined ? undefined : system;
  }

  byAmqp(user: string): SenderSystem | undefined {
    return this.byAmqpUser.get(user);
  }

  /** The system a client certificate names: by its SHA-256 fingerprint, else by its subject. */
  byCertificate(fingerprint256: string, subject: string): SenderSystem | undefined {
    return this.byFingerprint.get(fingerprint256.toUpperCase()) ?? this.bySubject.get(subject);
  }
}

/** Whether `system` may name `hsaId` as the sender of a message. */
export function maySendAs(system: SenderSystem, hsaId: string): boolean {
  return system.hsaIds.includes(hsaId);
}

/**
 * Parses and checks a senders file's text against schemas/senders.schema.json; every system needs a
 * credential, and no id, AMQP user, certificate subject or fingerprint may name two systems.
 */
export function parseSenders(text: string): Result<SenderRegistry> {
  const parsed = parseConfigJson(text, validate);
  if (!parsed.ok) return parsed;
  const json = parsed.value;
  const problems: Problem[] = [];
  const seen = new Map<string, Set<string>>();
  json.senders.forEach((sender, i) => {
    if (!CREDENTIALS.some((key) => sender[key] !== undefined)) {
      problems.push(problem('required', ['senders', i], `needs a credential: ${CREDENTIALS.join(', ')}`));
    }
    for (const key of ['id', ...CREDENTIALS.filter((c) => c !== 'keyHash')] as const) {
      const value = sender[key];
      if (value === undefined) continue;
      const values = seen.get(key) ?? new Set<string>();
      seen.set(key, values);
      if (values.has(value)) problems.push(problem('duplicate', ['senders', i, key], 'names a sender system already listed'));
      values.add(value);
    }
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: new SenderRegistry(json.senders) };
}
