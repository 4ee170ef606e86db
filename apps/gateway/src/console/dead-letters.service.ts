import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { formatProblem, type CanonicalMessage } from '@svu/canonical';
import { documentCharset, encodeDocument, isFormat, readMessage, showDocument, type Format } from '@svu/dialects';
import { Broker } from '../broker/broker';
import { encodeJob } from '../broker/jobs';
import { IngressService } from '../ingress';
import { maySendAs, type SenderSystem } from '@svu/directory';
import { done, refuse, type Outcome } from '../common/http/outcome';
import { SendersService } from '../senders/senders.service';
import { problemsJson } from '../store/records';
import { CopiesRepository } from '../store/copies.repository';
import { MessagesRepository } from '../store/messages.repository';
import { UnitNames } from './messages.service';
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
    private readonly messages: MessagesRepository,
    private readonly names: UnitNames,
  ) {}

  async list(filter: DeadLetterFilter, cursor: string | undefined, limit: number): Promise<Outcome<{ items: DeadLetterRow[]; total: number; next: string | null }>> {
    let after: { at: Date; id: string } | undefined;
    if (cursor !== undefined) {
      after = decodeCursor(cursor);
      if (after === undefined) return refuse('invalid', 'cursor is not valid');
    }
    const rows = await this.store.list(filter, after, limit + 1);
    const items = rows.slice(0, limit).map((r) => ({
      ...r,
      problemCount: Number(r.problemCount),
      senderName: this.names.unit(r.senderHsa),
      senderSystemName: this.names.senderSystem(r.senderSystem),
      recipientName: this.names.unit(r.recipientHsa),
    }));
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

  /**
   * The payload a dead letter is about and the dialect it is written in: the body refused at ingress
   * in its own dialect, or, for a copy that could not be delivered, the message as its sender wrote it
   * in the message's dialect (the dead letter's `dialect` is then the recipient's).
   */
  private original(row: Row): { payload: Buffer | null; dialect: string | null } {
    if (row['copy_id'] !== null && row['message_dialect'] !== null && row['message_dialect'] !== undefined) {
      return { payload: (row['message_payload'] ?? row['payload'] ?? null) as Buffer | null, dialect: row['message_dialect'] as string };
    }
    return { payload: (row['payload'] ?? row['message_payload'] ?? null) as Buffer | null, dialect: (row['dialect'] ?? row['message_dialect'] ?? null) as string | null };
  }

  /** One dead letter with its payload, canonical form, problems and delivery history; the view is audited. */
  async detail(id: string, session: Session): Promise<Outcome<Row>> {
    const row = await this.store.withMessage(id);
    if (row === undefined) return refuse('not-found', `no dead letter ${id}`);
    const events = row['copy_id'] === null ? [] : await this.copies.history(row['copy_id'] as string);
    const { payload, dialect } = this.original(row);
    const readable = this.readable(dialect, payload);
    const canonical = (row['canonical'] as CanonicalMessage | null) ?? readable;
    const operator = session.role === 'operator';
    await this.audit.record(session, 'view-dead-letter', `dead-letter:${id}`, { messageId: row['message_id'], patientDataShown: operator });
    const senderHsa = (row['sender_hsa'] as string | null) ?? canonical?.sender?.hsaId ?? null;
    const senderSystem = (row['sender_system'] as string | null) ?? (row['message_sender_system'] as string | null) ?? null;
    const detail = {
      id: row['id'],
      createdAt: row['created_at'],
      reason: row['reason'],
      messageId: row['message_id'],
      episodeId: row['episode_id'],
      type: row['type'],
      dialect,
      recipientDialect: row['copy_id'] === null ? null : row['dialect'],
      senderHsa,
      senderName: this.names.unit(senderHsa) ?? canonical?.sender?.name ?? null,
      senderSystem,
      senderSystemName: this.names.senderSystem(senderSystem),
      recipientHsa: row['recipient_hsa'],
      recipientName: this.names.unit(row['recipient_hsa'] as string | null),
      problems: row['problems'] ?? [],
      lastError: row['last_error'],
      lastAttempt: row['last_attempt'] ?? null,
      attempts: events.map((e) => ({ ...e, attempt: e.attempt ?? null })),
      replayable: this.replayable(row, readable !== undefined),
      resolvedAt: row['resolved_at'],
      resolution: row['resolution'],
      resolvedBy: row['resolved_by'],
      resolutionDetail: row['resolution_detail'],
      canonical: canonical === undefined ? null : operator ? canonical : maskMessage(canonical),
      payload: payload === null ? null : operator ? this.shown(dialect, payload) : maskPayload(),
      payloadCharset: payload === null ? null : documentCharset(this.formatOf(dialect), payload),
      payloadHidden: !operator,
    };
    if (operator) return done(detail);
    // The patient's names may also stand in problem texts or a recipient's error: hidden there too.
    const names = [canonical?.patient?.givenName, canonical?.patient?.familyName].filter((n): n is string => typeof n === 'string')
      .flatMap((n) => n.split(/[\s-]+/));
    return done(maskForViewer(detail, names));
  }

  /**
   * Whether Replay can work: a copy is routed and sent again; a message refused at ingress is read
   * again as stored, which helps only when it now reads as valid (an invalid message must be corrected).
   */
  private replayable(row: Row, readsValid: boolean): boolean {
    if (row['copy_id'] !== null) return true;
    if (row['payload'] === null) return false;
    return row['reason'] !== 'invalid-message' || readsValid;
  }

  /** A payload as its dialect's reader reads it (a payload of no known dialect as UTF-8), for the editor. */
  private shown(dialect: string | null, payload: Buffer): string {
    return showDocument(this.formatOf(dialect), payload);
  }

  /** The form a payload is read as: its dialect's, or UTF-8 JSON (canonical) for one of no known dialect. */
  private formatOf(dialect: string | null): Format {
    return dialect !== null && isFormat(dialect) ? dialect : 'canonical';
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
    const read = readMessage(dialect, row['payload'] as Buffer);
    if (!read.ok) {
      return refuse('invalid', {
        message: `the message does not pass validation as stored, so a replay would fail again: correct it instead (POST /api/dead-letters/${id}/correct)`,
        problems: problemsJson(read.problems),
        lines: read.problems.map(formatProblem),
      });
    }
    return this.ingest(row, dialect, row['payload'] as Buffer, session, 'replayed');
  }

  /**
   * Correct-and-replay: the edited payload is validated first, in the dialect it is written in (the
   * message's own unless `dialect` says otherwise); the original stays in the dead letter. The edited
   * text becomes bytes as its dialect writes them (the detail showed it as its reader reads it). A
   * message refused at ingress goes in again; a copy that could not be delivered is routed and
   * translated again for its recipient from the corrected message (which keeps its ids and sender).
   */
  async correct(id: string, payload: string, dialect: string | undefined, session: Session): Promise<Outcome<Resolved>> {
    const open = await this.openRow(id);
    if (!open.ok) return open;
    const full = await this.store.withMessage(id);
    if (full === undefined) return refuse('not-found', `no dead letter ${id}`);
    const own = this.original(full);
    const format = dialect ?? own.dialect ?? undefined;
    if (format === undefined || !isFormat(format)) return refuse('invalid', 'dialect must be lifecare, webcare, samsa or canonical');
    const bytes = encodeDocument(format, payload);
    if (full['copy_id'] === null) return this.ingest(open.value, format, bytes, session, 'corrected');
    return this.correctCopy(full, own, format, bytes, session);
  }

  /** Correct-and-replay of a copy that could not be delivered: the message as corrected, then the copy routed and sent again. */
  private async correctCopy(row: Row, own: { payload: Buffer | null; dialect: string | null }, format: Format, bytes: Buffer, session: Session): Promise<Outcome<Resolved>> {
    const id = row['id'] as string;
    if (own.dialect !== null && format !== own.dialect) {
      return refuse('invalid', `dialect: a stored message is corrected in its own dialect (${own.dialect}); its copy is translated for the recipient`);
    }
    const read = readMessage(format, bytes);
    if (!read.ok) return refuse('invalid', { message: 'the message is still not valid', problems: problemsJson(read.problems), lines: read.problems.map(formatProblem) });
    const stored = row['canonical'] as CanonicalMessage | null;
    const corrected = read.value;
    if (stored !== null) {
      for (const [field, before, after] of [
        ['messageId', stored.messageId, corrected.messageId],
        ['episodeId', stored.episodeId, corrected.episodeId],
        ['sender.hsaId', stored.sender.hsaId, corrected.sender.hsaId],
        ['type', stored.type, corrected.type],
      ] as const) {
        if (before !== after) return refuse('invalid', `payload: ${field} must stay ${String(before)} in a correction of a stored message (it is ${String(after)})`);
      }
    }
    const changed = stored === null || !isDeepStrictEqual(JSON.parse(JSON.stringify(corrected)), stored);
    if (changed) {
      if (own.payload !== null) await this.store.keepOriginal(id, own.payload);
      await this.messages.correct(row['message_pk'] as string, bytes, corrected);
    }
    const reset = await this.copies.replay(row['copy_id'] as string, session.username);
    if (reset === undefined) return refuse('conflict', 'the copy is no longer dead-lettered');
    const resolved = await this.resolve(id, 'corrected', session, changed ? 'message corrected; copy routed again' : 'unchanged; copy routed again');
    if (!resolved.ok) return resolved;
    await this.broker.publish(this.broker.names.workExchange, 'route', encodeJob({ messagePks: [reset.message_pk] }));
    await this.audit.record(session, 'correct-and-replay', `dead-letter:${id}`, { messageId: row['message_id'], changed });
    return done({ status: 'corrected', messageId: row['message_id'] as string });
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
