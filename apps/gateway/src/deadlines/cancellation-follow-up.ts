import type { AuditRepository } from '../store/audit.repository';
import type { CopiesRepository } from '../store/copies.repository';
import type { Queryable } from '../store/database';
import type { CancellationTarget, DocumentsRepository } from '../store/documents.repository';

/** What a cancellation does to the cancelled message's fallback documents, per recipient unit. */
export interface CancellationFollowUp {
  /**
   * Units whose copy was waiting only for its document (no route, unknown, retries exhausted) and is
   * now cancelled: they never got the message, so the cancellation is withheld from them. (A copy still
   * being sent electronically is not among them, although its document is withdrawn: it may arrive.)
   */
  readonly withdrawn: ReadonlySet<string>;
  /** Units that got the message by fax or letter: the cancellation goes to them the same way, and is never withheld. */
  readonly informedByHand: ReadonlySet<string>;
}

/** Who the audit log names for what the gateway does by itself. */
const GATEWAY_ACTOR = { username: 'svu-gateway', role: 'system' } as const;

/**
 * Cancellations follow documents (README, Deadlines, fallback documents and day 0), in the cancellation's own transaction (called by ingress after
 * it has cancelled the pending copies): records that the message no longer stands; withdraws its
 * documents not yet sent to the cancellation's recipients (they leave the manual-dispatch queue,
 * shown as withdrawn, audited) and cancels copies that were waiting only for such a document (no
 * electronic route, unknown recipient, retries exhausted); and for a document already sent asks the
 * deadline watcher for a cancellation document the same way (fax or letter) to the same unit.
 */
export async function followCancellation(
  tx: Queryable,
  store: { readonly copies: CopiesRepository; readonly documents: DocumentsRepository; readonly audit: AuditRepository },
  cancellation: CancellationTarget,
  now: Date,
): Promise<CancellationFollowUp> {
  const { messageId, cancelsMessageId, recipients, senderSystem, episodeId } = cancellation;
  await store.documents.recordCancellation(tx, cancellation, now);
  const withdrawnDocs = await store.documents.withdraw(tx, cancellation, now);
  if (withdrawnDocs.length > 0) {
    await store.audit.documentsWithdrawn(tx, GATEWAY_ACTOR, { cancelsMessageId, cancelledBy: messageId, documents: withdrawnDocs }, now);
    await store.copies.documentsWithdrawn(tx, withdrawnDocs.map((d) => d.copy_id), messageId);
  }
  // Copies that only a document would have delivered: no fallback for them any more.
  const stopped = await store.copies.withdraw(tx, { messageId: cancelsMessageId, recipients, senderSystem, episodeId }, messageId);
  const informedByHand = new Set(await store.documents.followUp(tx, cancellation, now));
  const withdrawn = new Set(stopped.map((r) => r.recipient_hsa));
  return { withdrawn, informedByHand };
}
