import { Inject, Injectable } from '@nestjs/common';
import type { AttemptDetail } from '@svu/delivery';
import { CLOCK, type Clock } from '../common/clock/clock';
import { AuditService } from '../common/audit.service';
import type { Session } from '../common/auth/session';
import { done, refuse, type Outcome } from '../common/http/outcome';
import { DirectoryService } from '../directory/directory.service';
import { SendersService } from '../senders/senders.service';
import { MessagesRepository } from '../store/messages.repository';
import { LONGEST_SEARCH, patientIdHash, searchKeyOf, swedishYear } from './message-search';

/** How many hits a search shows at most. */
export const SEARCH_LIMIT = 100;

/** A unit as the console names it: the directory's name, role and how it is reached. */
export interface UnitView {
  readonly hsaId: string;
  readonly name: string;
  readonly role: string;
  readonly transport: string;
}

type Row = Record<string, unknown>;

/**
 * Names for the console: a unit's name from the directory (null when the directory does not hold
 * it), a sender system's name from the senders file.
 */
@Injectable()
export class UnitNames {
  constructor(
    private readonly directory: DirectoryService,
    private readonly senders: SendersService,
  ) {}

  unit(hsaId: string | null | undefined): string | null {
    if (hsaId === null || hsaId === undefined) return null;
    return this.directory.lookup(hsaId)?.name ?? null;
  }

  senderSystem(id: string | null | undefined): string | null {
    if (id === null || id === undefined || id === '' || this.senders.unavailable !== undefined) return null;
    return this.senders.registry.byIdentifier(id)?.name ?? null;
  }

  units(): UnitView[] {
    return this.directory.directory.units.map((u) => ({ hsaId: u.hsaId, name: u.name, role: u.role, transport: u.transport.kind }));
  }
}

/**
 * Finding a message (docs/console.md): search by message id, episode id or (operators, audited) a
 * patient's identity number across every state, and a message's timeline: its copies with their
 * attempts, fallback documents, dead letters, cancellation and acknowledgements.
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly names: UnitNames,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async search(q: string, session: Session): Promise<Outcome<{ items: Row[]; byIdentityNumber: boolean; limit: number }>> {
    if (q.length > LONGEST_SEARCH) return refuse('invalid', `q: must be a text of at most ${LONGEST_SEARCH} characters`);
    const key = searchKeyOf(q, swedishYear(this.clock.now()));
    if (key.id === '') return refuse('invalid', 'q: must be a message id, an episode id or an identity number');
    // A viewer sees identity numbers masked, so it may not search by one either (as in the dead-letter list).
    if (key.identityShaped && session.role !== 'operator') return refuse('forbidden', 'q: viewers may not search by an identity number');
    const hash = key.identity === undefined ? null : patientIdHash(key.identity);
    const hits = await this.messages.search(key.id, hash, SEARCH_LIMIT);
    // The number itself is neither logged nor audited: only that a search by one was made, and how many it found.
    if (key.identityShaped) await this.audit.record(session, 'search-identity-number', 'messages', { hits: hits.length });
    const items = hits.map(({ senderWrittenName, ...h }) => ({
      ...h,
      senderName: this.names.unit(h.senderHsa) ?? senderWrittenName,
      senderSystemName: this.names.senderSystem(h.senderSystem),
      copies: h.copies.map((c) => ({ ...c, recipientName: this.names.unit(c.recipientHsa) })),
    }));
    return done({ items, byIdentityNumber: hash !== null, limit: SEARCH_LIMIT });
  }

  async timeline(messageId: string): Promise<Outcome<{ messageId: string; messages: Row[]; refused: Row[] }>> {
    if (messageId.length > LONGEST_SEARCH) return refuse('invalid', `id: must be a text of at most ${LONGEST_SEARCH} characters`);
    const stored = await this.messages.withId(messageId);
    const refused = (await this.messages.search(messageId, null, SEARCH_LIMIT)).filter((h) => h.refusedAs !== null && h.messageId === messageId);
    if (stored.length === 0 && refused.length === 0) return refuse('not-found', `no message ${messageId}`);
    const messages = await Promise.all(
      stored.map(async (m) => {
        const t = await this.messages.timelineOf(String(m['pk']), messageId, String(m['senderSystem']), String(m['episodeId']));
        const message = Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'pk' && k !== 'senderWrittenName'));
        return {
          ...message,
          // The directory's name of the sender unit, else the name the message gives it.
          senderName: this.names.unit(m['senderHsa'] as string) ?? (m['senderWrittenName'] as string | null),
          senderSystemName: this.names.senderSystem(m['senderSystem'] as string),
          copies: t.copies.map((c) => ({
            ...c,
            // The last failed attempt, while its error stands (a delivery or a replay clears the error).
            lastAttempt: c['lastError'] === null ? null : (c['lastAttempt'] ?? null),
            recipientName: this.names.unit(c['recipientHsa'] as string),
            events: (c['events'] as Array<{ attempt: AttemptDetail | null }>).map((e) => ({ ...e, attempt: e.attempt ?? null })),
          })),
          documents: t.documents.map((d) => ({ ...d, recipientName: this.names.unit(d['recipientHsa'] as string) })),
          deadLetters: t.deadLetters.map((d) => ({ ...d, recipientName: this.names.unit(d['recipientHsa'] as string) })),
          cancellations: t.cancellations,
          acknowledgements: t.acknowledgements.map((a) => ({ ...a, senderName: this.names.unit(a['senderHsa'] as string) })),
        };
      }),
    );
    return done({
      messageId,
      messages,
      refused: refused.map((r) => ({ deadLetterId: r.deadLetterId, reason: r.refusedAs, type: r.type, episodeId: r.episodeId, dialect: r.dialect, senderSystem: r.senderSystem, senderSystemName: this.names.senderSystem(r.senderSystem), at: r.receivedAt })),
    });
  }
}
