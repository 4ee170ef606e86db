import { Injectable } from '@nestjs/common';
import { formatProblem, type CanonicalMessage } from '@svu/canonical';
import { bufferEncodingOf, isFormat, readMessage, type Format } from '@svu/dialects';
import { Broker } from '../broker/broker';
import { encodeJob } from '../broker/jobs';
import { IngressService } from '../ingress';
import { maySendAs, type SenderSystem } from '@svu/directory';
import { done, refuse, type Outcome } from '../common/http/outcome';
import { SendersService } from '../senders/senders.service';
import { Database } from '../store/database';
import { problemsJson } from '../store/records';
import { CopiesRepository } from '../store/copies.repository';
import type { Session } from '../common/auth/session';
import { AuditService } from '../common/audit.service';
import { filterSql, type DeadLetterFilter } from './dead-letter-filter';
import { maskForViewer, maskMessage, maskPayload } from '../common/masking';

export interface DeadLetterRow {
  readonly id: string;
  readonly createdAt: Date;
  readonly reason: string;
  readonly messageId: string | null;
  readonly episodeId: string | null;
  readonly type: string | null;
  readonly dialect: string | null;
  readonly recipientHsa: string | null;
  readonly lastError: string | null;
  readonly problemCount: number;
  readonly resolvedAt: Date | null;
  readonly resolution: string | null;
}

const LIST_COLUMNS = `id, created_at AS "createdAt", reason, message_id AS "messageId", episode_id AS "episodeId", type, dialect,
  recipient_hsa AS "recipientHsa", last_error AS "lastError", coalesce(jsonb_array_length(problems), 0) AS "problemCount",
  resolved_at AS "resolvedAt", resolution`;

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
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly ingress: IngressService,
    private readonly audit: AuditService,
    private readonly senders: SendersService,
    private readonly copies: CopiesRepository,
  ) {}

  async list(filter: DeadLetterFilter, cursor: string | undefined, limit: number): Promise<Outcome<{ items: DeadLetterRow[]; next: string | null }>> {
    const { where, params } = filterSql(filter);
    let keyset = '';
    if (cursor !== undefined) {
      const c = decodeCursor(cursor);
      if (c === undefined) return refuse('invalid', 'cursor is not valid');
      params.push(c.at, c.id);
      keyset = ` AND (created_at, id) < ($${params.length - 1}, $${params.length})`;
    }
    params.push(limit + 1);
    const rows = await this.db.query<DeadLetterRow & Record<string, unknown>>(
      `SELECT ${LIST_COLUMNS} FROM dead_letters WHERE ${where}${keyset} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map((r) => ({ ...r, problemCount: Number(r.problemCount) }));
    return done({ items, next: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null });
  }

  async count(filter: DeadLetterFilter): Promise<number> {
    const { where, params } = filterSql(filter);
    const rows = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM dead_letters WHERE ${where}`, params);
    return Number(rows[0]!.n);
  }

  async ids(filter: DeadLetterFilter, limit: number): Promise<string[]> {
    const { where, params } = filterSql(filter);
    params.push(limit);
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM dead_letters WHERE ${where} ORDER BY created_at, id LIMIT $${params.length}`, params);
    return rows.map((r) => r.id);
  }

  /** One dead letter with its payload, canonical form, problems and delivery history; the view is audited. */
  async detail(id: string, session: Session): Promise<Outcome<Row>> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT d.*, m.canonical, m.payload AS message_payload, m.dialect AS message_dialect, m.received_at
       FROM dead_letters d LEFT JOIN messages m ON m.id = d.message_pk WHERE d.id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return refuse('not-found', `no dead letter ${id}`);
    const events =
      row['copy_id'] === null
        ? []
        : await this.db.query('SELECT state, at, detail FROM copy_events WHERE copy_id = $1 ORDER BY id', [row['copy_id']]);
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
      payload: payload === null ? null : operator ? payload.toString(dialect !== null && isFormat(dialect) ? bufferEncodingOf(dialect) : 'utf8') : maskPayload(),
      payloadHidden: !operator,
    };
    if (operator) return done(detail);
    // The patient's names may also stand in problem texts or a recipient's error: hidden there too.
    const names = [canonical?.patient?.givenName, canonical?.patient?.familyName].filter((n): n is string => typeof n === 'string')
      .flatMap((n) => n.split(/[\s-]+/));
    return done(maskForViewer(detail, names));
  }

  private readable(dialect: string | null, payload: Buffer | null): CanonicalMessage | undefined {
    if (dialect === null || payload === null || !isFormat(dialect)) return undefined;
    const read = readMessage(dialect, payload);
    return read.ok ? read.value : undefined;
  }

  private async openRow(id: string): Promise<Outcome<Row>> {
    const rows = await this.db.query<Row>('SELECT * FROM dead_letters WHERE id = $1', [id]);
    const row = rows[0];
    if (row === undefined) return refuse('not-found', `no dead letter ${id}`);
    if (row['resolved_at'] !== null) return refuse('conflict', `dead letter ${id} is already ${String(row["resolution"])}`);
    return done(row);
  }

  private async resolve(id: string, resolution: string, session: Session, detail: string | null): Promise<Outcome<void>> {
    const updated = await this.db.query(
      `UPDATE dead_letters SET resolved_at = now(), resolution = $2, resolved_by = $3, resolution_detail = $4 WHERE id = $1 AND resolved_at IS NULL RETURNING id`,
      [id, resolution, session.username, detail],
    );
    return updated.length === 0 ? refuse('conflict', `dead letter ${id} was resolved meanwhile`) : done(undefined);
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

  /** Correct-and-replay: the edited payload is validated first; the original stays in the dead letter. */
  async correct(id: string, payload: string, dialect: string | undefined, session: Session): Promise<Outcome<Resolved>> {
    const open = await this.openRow(id);
    if (!open.ok) return open;
    const row = open.value;
    const format = dialect ?? (row['dialect'] as string | null) ?? undefined;
    if (format === undefined || !isFormat(format)) return refuse('invalid', 'dialect must be lifecare, webcare, samsa or canonical');
    const bytes = Buffer.from(payload, bufferEncodingOf(format));
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
