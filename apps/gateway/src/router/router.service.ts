import { Injectable, Logger } from '@nestjs/common';
import { writeMessage } from '@svu/dialects';
import { Inject } from '@nestjs/common';
import { Broker } from '../broker/broker';
import { encodeJob, type CopyRef } from '../broker/jobs';
import { DirectoryService } from '../directory/directory.service';
import { Database, type Queryable } from '../store/database';
import { CopiesRepository, type PendingCopy, type RoutedCopy } from '../store/copies.repository';
import { CLOCK, type Clock } from '../common/clock/clock';
import { insertDeadLetter } from '../store/records';
import { insertDeviation } from '../store/deviations.repository';

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
    private readonly copies: CopiesRepository,
  ) {}

  /** Routes the copies still waiting of these messages; idempotent, so a repeated job does nothing. */
  async route(messagePks: readonly string[]): Promise<void> {
    if (messagePks.length === 0) return;
    const deliver: CopyRef[] = [];
    await this.db.transaction(async (tx) => {
      const pending = await this.copies.pending(tx, messagePks);
      const translations = new Map<string, Buffer>();
      const routed: Array<RoutedCopy & { attempts: number }> = [];
      for (const copy of pending) {
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
      await this.copies.route(tx, routed);
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
    if (!(await this.copies.unknownRecipient(tx, copy.id))) return;
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
