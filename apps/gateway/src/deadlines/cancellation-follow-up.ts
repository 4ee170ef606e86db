import type { Queryable } from '../store/database';
import type { CopiesRepository } from '../store/copies.repository';

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
  copies: CopiesRepository,
  cancellation: {
    readonly messageId: string;
    readonly cancelsMessageId: string;
    readonly recipients: readonly string[];
    /** The cancellation acts only on the messages of its own sender system in its own episode (docs/senders.md). */
    readonly senderSystem: string;
    readonly episodeId: string;
  },
  now: Date,
): Promise<CancellationFollowUp> {
  const { messageId, cancelsMessageId, recipients, senderSystem, episodeId } = cancellation;
  await tx.query(
    `INSERT INTO message_cancellations (sender_system, message_id, cancelled_by, cancelled_at)
     SELECT sender_system, message_id, $4, $5 FROM messages WHERE message_id = $1 AND sender_system = $2 AND episode_id = $3
     ON CONFLICT (sender_system, message_id) DO NOTHING`,
    [cancelsMessageId, senderSystem, episodeId, messageId, now],
  );
  // The copies of the cancelled message itself: a message of another sender system may carry the same id.
  const own = `SELECT c.id FROM copies c JOIN messages m ON m.id = c.message_pk WHERE m.message_id = $1 AND m.sender_system = $8 AND m.episode_id = $9`;
  const withdrawnDocs = await tx.query<{ id: string; copy_id: string; recipient_hsa: string; reference: string }>(
    `UPDATE fallback_documents SET status = 'withdrawn', withdrawn_at = $3, withdrawn_by = $4
     WHERE message_id = $1 AND recipient_hsa = ANY($2) AND status = 'waiting' AND copy_id IN (${own.replace('$8', '$5').replace('$9', '$6')})
     RETURNING id, copy_id, recipient_hsa, reference`,
    [cancelsMessageId, recipients, now, messageId, senderSystem, episodeId],
  );
  if (withdrawnDocs.rows.length > 0) {
    await tx.query(
      `INSERT INTO audit_log (at, username, role, action, target, detail)
       SELECT $1, $2, $3, 'withdraw-fallback-document', 'fallback-document:' || d.id, jsonb_build_object('messageId', $4::text, 'reference', d.reference, 'cancelledBy', $5::text)
       FROM unnest($6::bigint[], $7::text[]) AS d(id, reference)`,
      [now, GATEWAY_ACTOR.username, GATEWAY_ACTOR.role, cancelsMessageId, messageId, withdrawnDocs.rows.map((d) => d.id), withdrawnDocs.rows.map((d) => d.reference)],
    );
    await copies.documentsWithdrawn(tx, withdrawnDocs.rows.map((d) => d.copy_id), messageId);
  }
  // Copies that only a document would have delivered: no fallback for them any more.
  const stopped = await copies.withdraw(tx, { messageId: cancelsMessageId, recipients, senderSystem, episodeId }, messageId);
  const followUps = await tx.query<{ recipient_hsa: string }>(
    `INSERT INTO fallback_follow_ups (cancellation_message_id, recipient_hsa, kind, original_document_id, created_at)
     SELECT $3, recipient_hsa, sent_via, id, $4 FROM fallback_documents
     WHERE message_id = $1 AND recipient_hsa = ANY($2) AND status = 'sent' AND copy_id IN (${own.replace('$8', '$5').replace('$9', '$6')})
     ON CONFLICT (cancellation_message_id, recipient_hsa) DO NOTHING
     RETURNING recipient_hsa`,
    [cancelsMessageId, recipients, messageId, now, senderSystem, episodeId],
  );
  const informedByHand = new Set(followUps.rows.map((r) => r.recipient_hsa));
  const withdrawn = new Set(stopped.map((r) => r.recipient_hsa));
  return { withdrawn, informedByHand };
}
