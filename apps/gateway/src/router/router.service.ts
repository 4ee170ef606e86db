import { Injectable, Logger } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import { writeMessage, type Format } from '@svu/dialects';
import { Inject } from '@nestjs/common';
import { Broker } from '../broker/broker';
import { encodeJob, type CopyRef } from '../broker/jobs';
import { DirectoryService } from '../directory/directory.service';
import { Database, prepared, type Queryable } from '../store/database';
import { CLOCK, type Clock } from '../common/clock/clock';
import { insertDeadLetter, insertDeviation, recordEvents } from '../store/records';

/**
 * The copies of messages $1 still waiting to be routed, with the canonical message, locked. They are
 * found by key; the state is tested as `(…) IS TRUE`, which no index serves. Otherwise the generic
 * plan ANDs in the partial index copies_stale, whose entries for 'received' include every copy
 * routed since the last vacuum (18,000 entries read per batch under load, where 10 were wanted).
 */
export const PENDING = prepared(`SELECT c.id, c.attempts, c.message_pk, c.recipient_hsa, m.canonical
  FROM copies c JOIN messages m ON m.id = c.message_pk
  WHERE c.message_pk = ANY($1::bigint[]) AND (c.state = 'received') IS TRUE
  ORDER BY c.id FOR UPDATE OF c SKIP LOCKED`);

/** Records routed copies ($1 ids, $2 states, $3 dialects, $4 transports, $5 payloads) and their events. */
const ROUTED = prepared(`WITH updated AS (
    UPDATE copies c SET state = u.state, dialect = u.dialect, transport = u.transport, payload = u.payload, updated_at = now()
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::bytea[]) AS u(id, state, dialect, transport, payload)
    WHERE c.id = u.id RETURNING c.id, c.state)
  INSERT INTO copy_events (copy_id, state, detail)
  SELECT id, state, CASE WHEN state = 'manual' THEN 'the recipient has no electronic route' END FROM updated ORDER BY id`);

interface PendingCopy {
  readonly id: string;
  readonly attempts: number;
  readonly message_pk: string;
  readonly recipient_hsa: string;
  readonly canonical: CanonicalMessage;
}

/**
 * The router: for each copy of a stored message, looks the recipient up in the unit directory and
 * translates the message into that recipient's dialect. A recipient missing from the directory is a
 * routing problem: that copy is dead-lettered (`unknown-recipient`) and the others go on.
 */
@Injectable()
export class RouterService {
  private readonly logger = new Logger(RouterService.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly directory: DirectoryService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Routes the copies still waiting of these messages; idempotent, so a repeated job does nothing. */
  async route(messagePks: readonly string[]): Promise<void> {
    if (messagePks.length === 0) return;
    const deliver: CopyRef[] = [];
    await this.db.transaction(async (tx) => {
      const copies = await tx.query<PendingCopy>({ ...PENDING, values: [messagePks] });
      const translations = new Map<string, Buffer>();
      const routed: Array<{ id: string; attempts: number; state: 'routed' | 'manual'; dialect: Format; transport: string; payload: Buffer }> = [];
      for (const copy of copies.rows) {
        const unit = this.directory.lookup(copy.recipient_hsa);
        if (unit === undefined) {
          await this.unknownRecipient(tx, copy);
          continue;
        }
        const key = `${copy.message_pk}/${unit.dialect}`;
        let payload = translations.get(key);
        if (payload === undefined) {
          payload = writeMessage(unit.dialect, copy.canonical);
          translations.set(key, payload);
        }
        routed.push({ id: copy.id, attempts: copy.attempts, state: unit.transport.kind === 'none' ? 'manual' : 'routed', dialect: unit.dialect, transport: JSON.stringify(unit.transport), payload });
      }
      if (routed.length === 0) return;
      // The copies and their events in one statement.
      await tx.query({ ...ROUTED, values: [routed.map((r) => r.id), routed.map((r) => r.state), routed.map((r) => r.dialect), routed.map((r) => r.transport), routed.map((r) => r.payload)] });
      for (const r of routed) if (r.state === 'routed') deliver.push({ copyId: r.id, attempt: r.attempts });
    });
    if (deliver.length > 0) {
      await this.broker
        .publish(this.broker.names.workExchange, 'deliver', encodeJob({ copies: deliver }))
        .catch((error: Error) => this.logger.warn({ count: deliver.length, err: error.message }, 'deliver job not published; the sweeper will'));
    }
  }

  /** docs/rules.md (unit directory): a recipient missing from the directory is a routing problem; that copy is dead-lettered. */
  private async unknownRecipient(tx: Queryable, copy: PendingCopy): Promise<void> {
    const message = copy.canonical;
    await tx.query(`UPDATE copies SET state = 'dead-lettered', last_error = 'unknown-recipient', updated_at = now() WHERE id = $1`, [copy.id]);
    await recordEvents(tx, [copy.id], 'dead-lettered', 'unknown-recipient');
    await insertDeadLetter(tx, {
      reason: 'unknown-recipient',
      messagePk: copy.message_pk,
      copyId: copy.id,
      messageId: message.messageId,
      episodeId: message.episodeId,
      type: message.type,
      recipientHsa: copy.recipient_hsa,
      lastError: `${copy.recipient_hsa} is not in the unit directory`,
    });
    await insertDeviation(tx, 'dead-lettered', { messageId: message.messageId, copyId: copy.id, unitHsa: copy.recipient_hsa, detail: 'unknown-recipient', at: this.clock.now() });
  }
}
