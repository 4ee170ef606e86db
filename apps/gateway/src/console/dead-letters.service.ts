import { Injectable } from '@nestjs/common';
import { formatProblem, type CanonicalMessage } from '@svu/canonical';
import { encodeDocument, isFormat, readMessage, showDocument, type Format } from '@svu/dialects';
import { Broker } from '../broker/broker';
import { encodeJob } from '../broker/jobs';
import { IngressService } from '../ingress';
import { maySendAs, type SenderSystem } from '@svu/directory';
import { done, refuse, type Outcome } from '../common/http/outcome';
import { SendersService } from '../senders/senders.service';
import { problemsJson } from '../store/records';
import { CopiesRepository } from '../store/copies.repository';
import { DeadLettersRepository, type Breakdown, type DeadLetterFilter, type DeadLetterRow } from '../store/dead-letters.repository';
import type { Session } from '../common/auth/session';
import { AuditService } from '../common/audit.service';
import { maskForViewer, maskMessage, maskPayload } from '../common/masking';

/** Cursor of keyset paging: the last row's time and id. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (at === undefined || id === undefined || Number.isNaN(Date.parse(at)) || !/^\d+$/.test(id)) return undefined;
  return { at: new Date(at), id };
}

type Row = Record<string, unknown>;

/** What a replay, a correction or a discard did. */
export interface Resolved {
  readonly status: 'replayed' | 'corrected' | 'discarded';
  readonly messageId?: string;
}

/**
 * The dead-letter queue for operations: list (filters, search by message or episode id, keyset
 * paging), detail, replay, correct-and-replay, discard. Lists never show identity numbers; a detail
 * shows them only to operators, and every detail view is audited.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly store: DeadLettersRepository,
    private readonly broker: Broker,
    private readonly ingress: IngressService,
    private readonly audit: AuditService,
    private readonly senders: SendersService,
    private readonly copies: CopiesRepository,
  ) {}

  async list(filter: DeadLetterFilter, cursor: string | undefined, limit: number): Promise<Outcome<{ items: DeadLetterRow[]; total: number; next: string | null }>> {
    let after: { at: Date; id: string } | undefined;
    if (cursor !== undefined) {
      after = decodeCursor(cursor);
      if (after === undefined) return refuse('invalid', 'cursor is not valid');
    }
    const rows = await this.store.list(filter, after, limit + 1);
    const items = rows.slice(0, limit).map((r) => ({ ...r, problemCount: Number(r.problemCount) }));
    return done({ items, total: await this.store.count(filter), next: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null });
  }

  count(filter: DeadLetterFilter): Promise<number> {
    return this.store.count(filter);
  }

  /** How many open dead letters of a selection there are per recipient, type and reason. */
  breakdown(filter: DeadLetterFilter): Promise<Breakdown> {
    return this.store.breakdown(filter);
  }

  ids(filter: DeadLetterFilter, limit: number): Promise<string[]> {
    return this.store.ids(filter, limit);
  }

  /** One dead letter with its payload, canonical form, problems and delivery history; the view is audited. */
  async detail(id: string, session: Session): Promise<Outcome<Row>> {
    const row = await this.store.withMessage(id);
    if (row === undefined) return refuse('not-found', `no dead letter ${id}`);
    const events = row['copy_id'] === null ? [] : await this.copies.history(row['copy_id'] as string);
    const payload = (row['payload'] ?? row['message_payload'] ?? null) as Buffer | null;
    const dialect = (row['dialect'] ?? row['message_dialect'] ?? null) as string | null;
    const canonical = (row['canonical'] as CanonicalMessage | null) ?? this.readable(dialect, payload);
    const operator = session.role === 'operator';
    await this.audit.record(session, 'view-dead-letter', `dead-letter:${id}`, { messageId: row['message_id'], patientDataShown: operator });
    const detail = {
      id: row['id'],
      createdAt: row['created_at'],
      reason: row['reason'],
      messageId: row['message_id'],
      episodeId: row['episode_id'],
      type: row['type'],
      dialect,
      recipientHsa: row['recipient_hsa'],
      problems: row['problems'] ?? [],
      lastError: row['last_error'],
      attempts: events,
      resolvedAt: row['resolved_at'],
      resolution: row['resolution'],
      resolvedBy: row['resolved_by'],
      resolutionDetail: row['resolution_detail'],
      canonical: canonical === undefined ? null : operator ? canonical : maskMessage(canonical),
      payload: payload === null ? null : operator ? this.shown(dialect, payload) : maskPayload(),
      payloadHidden: !operator,
    };
    if (operator) return done(detail);
    // The patient's names may also stand in problem texts or a recipient's error: hidden there too.
    const names = [canonical?.patient?.givenName, canonical?.patient?.familyName].filter((n): n is string => typeof n === 'string')
      .flatMap((n) => n.split(/[\s-]+/));
    return done(maskForViewer(detail, names));
  }

  /** A payload as its dialect's reader reads it (a payload of no known dialect as UTF-8), for the editor. */
  private shown(dialect: string | null, payload: Buffer): string {
    return showDocument(dialect !== null && isFormat(dialect) ? dialect : 'canonical', payload);
  }

  private readable(dialect: string | null, payload: Buffer | null): CanonicalMessage | undefined {
    if (dialect === null || payload === null || !isFormat(dialect)) return undefined;
    const read = readMessage(dialect, payload);
    return read.ok ? read.value : undefined;
  }

  private async openRow(id: string): Promise<Outcome<Row>> {
    const row = await this.store.get(id);
    if (row === undefined) return refuse('not-found', `no dead letter ${id}`);
    if (row['resolved_at'] !== null) return refuse('conflict', `dead letter ${id} is already ${String(row["resolution"])}`);
    return done(row);
  }

  private async resolve(id: string, resolution: string, session: Session, detail: string | null): Promise<Outcome<void>> {
    const resolved = await this.store.resolve(id, resolution, session.username, detail);
    return resolved ? done(undefined) : refuse('conflict', `dead letter ${id} was resolved meanwhile`);
  }

  /**
   * Replay: a message that was refused is read again as it was stored (accepted if it now passes, e.g.
   * after a directory or code change); a copy that could not be delivered is routed and sent again.
   */
  async replay(id: string, session: Session): Promise<Outcome<Resolved>> {
    const open = await this.openRow(id);
    if (!open.ok) return open;
    const row = open.value;
    if (row['copy_id'] !== null) {
      const reset = await this.copies.replay(row['copy_id'] as string, session.username);
      if (reset === undefined) return refuse('conflict', 'the copy is no longer dead-lettered');
      const resolved = await this.resolve(id, 'replayed', session, null);
      if (!resolved.ok) return resolved;
      await this.broker.publish(this.broker.names.workExchange, 'route', encodeJob({ messagePks: [reset.message_pk] }));
      await this.audit.record(session, 'replay', `dead-letter:${id}`, { messageId: row['message_id'] });
      return done({ status: 'replayed', messageId: row['message_id'] as string });
    }
    const dialect = row['dialect'] as string | null;
    if (dialect === null || !isFormat(dialect) || row['payload'] === null) return refuse('invalid', 'this dead letter has no payload to replay; correct it instead');
    return this.ingest(row, dialect, row['payload'] as Buffer, session, 'replayed');
  }

  /**
   * Correct-and-replay: the edited payload is validated first; the original stays in the dead letter.
   * The edited text becomes bytes as its dialect writes them (the detail showed it as its reader reads it).
   */
  async correct(id: string, payload: string, dialect: string | undefined, session: Session): Promise<Outcome<Resolved>> {
    const open = await this.openRow(id);
    if (!open.ok) return open;
    const row = open.value;
    const format = dialect ?? (row['dialect'] as string | null) ?? undefined;
    if (format === undefined || !isFormat(format)) return refuse('invalid', 'dialect must be lifecare, webcare, samsa or canonical');
    const bytes = encodeDocument(format, payload);
    return this.ingest(row, format, bytes, session, 'corrected');
  }

  private async ingest(row: Row, format: Format, bytes: Buffer, session: Session, resolution: 'replayed' | 'corrected'): Promise<Outcome<Resolved>> {
    const id = row['id'] as string;
    const read = readMessage(format, bytes);
    if (!read.ok) return refuse('invalid', { message: 'the message is still not valid', problems: problemsJson(read.problems), lines: read.problems.map(formatProblem) });
    const sender = this.senderOf(row, read.value.sender.hsaId);
    if (!sender.ok) return sender;
    const result = await this.ingress.accept({ format, bytes, via: 'replay', sender: sender.value });
    if (result.status === 'invalid') return refuse('invalid', { message: 'the message is not valid', problems: problemsJson(result.problems) });
    if (result.status === 'refused') return refuse('conflict', { message: `refused again: ${result.detail}`, reason: result.reason, deadLetterId: result.deadLetterId });
    const resolved = await this.resolve(id, resolution, session, `${result.status} as ${result.messageId}`);
    if (!resolved.ok) return resolved;
    await this.audit.record(session, resolution === 'corrected' ? 'correct-and-replay' : 'replay', `dead-letter:${id}`, { messageId: result.messageId, outcome: result.status });
    return done({ status: resolution, messageId: result.messageId });
  }

  /**
   * A replayed message goes in again as the sender system that sent it, under the same checks
   * (docs/senders.md). A dead letter kept before sender systems existed names none: it goes in as the
   * system allowed to send as its sender's HSA id, if there is exactly one.
   */
  private senderOf(row: Row, senderHsaId: string): Outcome<SenderSystem> {
    const unavailable = this.senders.unavailable;
    if (unavailable !== undefined) return refuse('conflict', `this console process has no sender systems to replay as: ${unavailable}`);
    const id = row['sender_system'] as string | null;
    if (id !== null) {
      const sender = this.senders.registry.byIdentifier(id);
      return sender === undefined ? refuse('conflict', `the sender system ${id} that sent this message is no longer configured (SVU_SENDERS)`) : done(sender);
    }
    const allowed = this.senders.registry.senders.filter((s) => maySendAs(s, senderHsaId));
    if (allowed.length !== 1) return refuse('conflict', `no single sender system may send as ${senderHsaId}; this message cannot be replayed`);
    return done(allowed[0]!);
  }

  async discard(id: string, reason: string, session: Session): Promise<Outcome<Resolved>> {
    if (reason.trim() === '') return refuse('invalid', 'a reason is required to discard');
    const open = await this.openRow(id);
    if (!open.ok) return open;
    const resolved = await this.resolve(id, 'discarded', session, reason.trim());
    if (!resolved.ok) return resolved;
    await this.audit.record(session, 'discard', `dead-letter:${id}`, { messageId: open.value['message_id'], reason: reason.trim() });
    return done({ status: 'discarded' });
  }
}
