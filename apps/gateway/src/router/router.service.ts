import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import type { CanonicalMessage } from '@svu/canonical';
import { writeMessage } from '@svu/dialects';
import { Inject } from '@nestjs/common';
import { Broker, type Disposition } from '../broker/broker';
import { decodeJob, encodeJob, type RouteJob } from '../broker/jobs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { DirectoryService } from '../directory/directory.service';
import { Database } from '../store/database';
import { insertDeadLetter, insertDeviation, recordEvents } from '../store/records';

interface PendingCopy {
  readonly id: string;
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
export class RouterService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RouterService.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly directory: DirectoryService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.consume(
      this.broker.names.routeQueue,
      { prefetch: this.config.prefetch, batchSize: Math.min(100, this.config.prefetch), batchWaitMs: 5 },
      (messages) => this.handle(messages),
    );
  }

  async handle(messages: readonly ConsumeMessage[]): Promise<Disposition[]> {
    const pks = messages.map((m) => decodeJob<RouteJob>(m.content, 'messagePk')?.messagePk).filter((pk): pk is string => pk !== undefined);
    await this.route(pks);
    return messages.map(() => 'ack');
  }

  /** Routes the copies still waiting of these messages; idempotent, so a repeated job does nothing. */
  async route(messagePks: readonly string[]): Promise<void> {
    if (messagePks.length === 0) return;
    const deliver: string[] = [];
    await this.db.transaction(async (tx) => {
      const copies = await tx.query<PendingCopy>(
        `SELECT c.id, c.message_pk, c.recipient_hsa, m.canonical
         FROM copies c JOIN messages m ON m.id = c.message_pk
         WHERE c.message_pk = ANY($1::bigint[]) AND c.state = 'received'
         ORDER BY c.id FOR UPDATE OF c SKIP LOCKED`,
        [messagePks],
      );
      const translations = new Map<string, Buffer>();
      for (const copy of copies.rows) {
        const unit = this.directory.lookup(copy.recipient_hsa);
        const message = copy.canonical;
        if (unit === undefined) {
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
          await insertDeviation(tx, 'dead-lettered', { messageId: message.messageId, copyId: copy.id, unitHsa: copy.recipient_hsa, detail: 'unknown-recipient' });
          continue;
        }
        const dialect = unit.dialect;
        const key = `${copy.message_pk}/${dialect}`;
        let payload = translations.get(key);
        if (payload === undefined) {
          payload = writeMessage(dialect, message);
          translations.set(key, payload);
        }
        const state = unit.transport.kind === 'none' ? 'manual' : 'routed';
        await tx.query(`UPDATE copies SET state = $2, dialect = $3, transport = $4, payload = $5, updated_at = now() WHERE id = $1`, [
          copy.id,
          state,
          dialect,
          JSON.stringify(unit.transport),
          payload,
        ]);
        await recordEvents(tx, [copy.id], state, `${dialect} over ${unit.transport.kind}`);
        if (state === 'routed') deliver.push(copy.id);
      }
    });
    await Promise.all(
      deliver.map((copyId) =>
        this.broker
          .publish(this.broker.names.workExchange, 'deliver', encodeJob({ copyId, attempt: 0 }))
          .catch((error: Error) => this.logger.warn({ copyId, err: error.message }, 'deliver job not published; the sweeper will')),
      ),
    );
  }
}
