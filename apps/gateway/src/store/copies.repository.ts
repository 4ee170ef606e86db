import { Injectable } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import type { AttemptDetail } from '@svu/delivery';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { checkTarget, eventOf, fromStates, sqlStates, movedState, targetOf, type CopyEvent, type TransitionName } from './copy-lifecycle';
import { Database, prepared, type Queryable } from './database';
import { SETTLED_STATES } from './records';
import { listEpisodesSql } from './report-pending';

/**
 * The copies of messages: every statement that reads copies for the pipeline or changes them. Each
 * statement that changes a copy's state is built from its entry in the transition table
 * (copy-lifecycle.ts): its state guard from the states the transition may find a copy in (`foundIn`
 * where the statement finds its copies by key), its new state from those it moves to, and its history
 * row from the event it writes. The states are written into the statements as literals (never
 * parameters), as the partial indexes' predicates are, so the hot statements keep their plans
 * (test/e2e/store checks them).
 */

/** `'a', 'b'`: the states `name` may find a copy in. */
const from = (name: TransitionName) => sqlStates(fromStates(name));
/**
 * `(state IN ('a', 'b')) IS TRUE`: the guard of a statement that finds its copies by key (copy ids, a
 * message), over `column`: the states `name` may find a copy in. Written as `IS TRUE`, which no index
 * serves: with a plain `state IN (…)` the planner may AND in the partial index copies_stale, whose
 * entries for a state include every copy that passed through it since the last vacuum, so that under
 * load each statement reads thousands of entries where it wanted a few rows, more with every copy
 * (docs/benchmarks.md, issue 15, has what that cost the recording of delivered copies). The scans that
 * look for copies by state (the sweeper's, the deadline watcher's) test it plainly, for that index.
 */
const foundIn = (name: TransitionName, column = 'state') => `(${column} IN (${from(name)})) IS TRUE`;
/** `'a'`: the one state `name` moves a copy to. */
const to = (name: TransitionName) => sqlStates([targetOf(name)]);
/** `'a'`: the history row `name` writes when it moves a copy to `state`. */
const event = (name: TransitionName, state?: Parameters<typeof eventOf>[1]) => sqlStates([eventOf(name, state)!]);

// The settled states written out in the SQL, exactly as in the predicate of the partial index
// copies_open_by_episode: with a parameter instead, a generic plan cannot use that index and the
// order check scans every copy.
const SETTLED_SQL = sqlStates(SETTLED_STATES);

/** Writes the history rows of copies: what each transition writes (the event of its table entry). */
async function recordEvents(tx: Queryable, copyIds: readonly (number | string)[], state: CopyEvent, detail?: string, attempt?: AttemptDetail): Promise<void> {
  if (copyIds.length === 0) return;
  if (attempt === undefined) await tx.query('INSERT INTO copy_events (copy_id, state, detail) SELECT unnest($1::bigint[]), $2, $3', [copyIds, state, detail ?? null]);
  else await tx.query('INSERT INTO copy_events (copy_id, state, detail, attempt) SELECT unnest($1::bigint[]), $2, $3, $4', [copyIds, state, detail ?? null, JSON.stringify(attempt)]);
}

/** The history row of `name`, written for copies it acted on. */
async function record(tx: Queryable, name: TransitionName, copyIds: readonly (number | string)[], detail?: string, state?: Parameters<typeof eventOf>[1], attempt?: AttemptDetail): Promise<void> {
  const written = eventOf(name, state);
  if (written !== null) await recordEvents(tx, copyIds, written, detail, attempt);
}

/**
 * The CTEs inserting one copy per recipient of each message in `stored` (id, message_id,
 * sender_system, episode_id, type, notify_by) and the copies' first events, from ingress's copy
 * parameters at $first… (sender systems, message ids, recipients, roles, whether withheld). Copy ids
 * follow the order of the batch, then of the recipients. A copy is stored received (`accept`), or
 * cancelled when its cancellation is withheld (`accept-withheld`, docs/rules.md, rule 5).
 */
export function newCopiesSql(first: number): string {
  const [sys, mid, hsa, role, withheld] = [first, first + 1, first + 2, first + 3, first + 4];
  return `new_copies AS (
      INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, notify_by, state)
      SELECT s.id, s.message_id, s.episode_id, s.type, r.hsa, r.role, s.notify_by, CASE WHEN r.w THEN ${to('accept-withheld')} ELSE ${to('accept')} END
      FROM unnest($${sys}::text[], $${mid}::text[], $${hsa}::text[], $${role}::text[], $${withheld}::boolean[]) WITH ORDINALITY AS r(sys, mid, hsa, role, w, n)
        JOIN stored s ON s.sender_system = r.sys AND s.message_id = r.mid
      ORDER BY r.n RETURNING id, state),
    new_events AS (
      INSERT INTO copy_events (copy_id, state, detail)
      SELECT id, state, CASE WHEN state = ${event('accept-withheld', 'cancelled')} THEN 'the cancelled message was never delivered' END FROM new_copies ORDER BY id)`;
}

/** A copy ingress stores: one per recipient of the first occurrence of each message (docs/rules.md, rule 1). */
export interface CopyToStore {
  readonly senderSystem: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly role: string;
  /** docs/rules.md, rule 5: stored cancelled (never sent), the cancellation of a message this recipient never got. */
  readonly withheld: boolean;
}

/** The parameters of newCopiesSql for `copies`: sender systems, message ids, recipients, roles, whether withheld. */
export function copyParams(copies: readonly CopyToStore[]): unknown[] {
  return [copies.map((r) => r.senderSystem), copies.map((r) => r.messageId), copies.map((r) => r.recipientHsa), copies.map((r) => r.role), copies.map((r) => r.withheld)];
}

/** The copies of messages $1 (ids), with their first events, from newCopiesSql's parameters at $2…. */
const ACCEPT = `WITH stored AS (SELECT id, message_id, sender_system, episode_id, type, notify_by FROM messages WHERE id = ANY($1::bigint[])), ${newCopiesSql(2)},
  ${listEpisodesSql('listed', 'stored')} SELECT 1`;

/**
 * The copies of messages $1 still waiting to be routed, with the canonical message, locked, found by
 * key (`foundIn`: with a plain state test a generic plan ANDs in copies_stale's entries for
 * 'received', one for every copy routed since the last vacuum). Planned at each call, not prepared:
 * see CopiesRepository.pending.
 */
export const PENDING_SQL = `SELECT c.id, c.attempts, c.message_pk, c.recipient_hsa, m.canonical
  FROM copies c JOIN messages m ON m.id = c.message_pk
  WHERE c.message_pk = ANY($1::bigint[]) AND ${foundIn('route', 'c.state')}
  ORDER BY c.id FOR UPDATE OF c SKIP LOCKED`;

/**
 * Records routed copies ($1 ids, $2 states, $3 dialects, $4 transports, $5 payloads) and their events:
 * copies PENDING_SQL locked (received); each state is one `route` moves to (checked before).
 */
const ROUTED = prepared(`WITH updated AS (
    UPDATE copies c SET state = u.state, dialect = u.dialect, transport = u.transport, payload = u.payload, updated_at = now()
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::bytea[]) AS u(id, state, dialect, transport, payload)
    WHERE c.id = u.id RETURNING c.id, c.state)
  INSERT INTO copy_events (copy_id, state, detail)
  SELECT id, state, CASE WHEN state = ${event('route', 'manual')} THEN 'the recipient has no electronic route' END FROM updated ORDER BY id`);

/**
 * Claims copies ($1 copy ids, $2 their attempts, $3 lease in ms, $4 whether this is a failing
 * recipient's probe, $5 the claiming process) that can go now — whose earlier copies to the same
 * recipient in the episode are settled, and whose recipient is neither paused nor failing (a probe
 * may go to a failing one) — and writes their 'sending' event, in one statement. The order check
 * reads the partial index copies_open_by_episode (test/e2e/store checks the plan), so it costs the
 * same however many settled copies an episode has. The batch is found by key (`c.id = ANY`, `foundIn`), so
 * that the planner cannot prefer an index of open copies when its statistics have not yet seen a
 * growing backlog (it would read the whole backlog for every batch).
 */
export const CLAIM_SQL = `WITH candidates AS (
    SELECT c.id FROM copies c JOIN unnest($1::bigint[], $2::int[]) AS j(id, attempt) ON c.id = j.id AND c.attempts = j.attempt
    WHERE c.id = ANY($1::bigint[]) AND ${foundIn('claim', 'c.state')}
      AND NOT EXISTS (
        SELECT 1 FROM copies e
        WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id AND e.state NOT IN (${SETTLED_SQL}))
      AND NOT EXISTS (
        SELECT 1 FROM recipient_health h
        WHERE h.recipient_hsa = c.recipient_hsa AND (h.paused_at IS NOT NULL OR (h.failing AND NOT $4::boolean)))
    ORDER BY c.id FOR UPDATE OF c SKIP LOCKED),
  claimed AS (
    UPDATE copies c SET state = ${to('claim')}, lease_until = now() + $3 * interval '1 millisecond', lease_owner = $5::text,
      first_attempt_at = coalesce(first_attempt_at, now()), last_attempt_at = now(), updated_at = now()
    FROM candidates WHERE c.id = candidates.id
    RETURNING c.id, c.message_pk, c.message_id, c.episode_id, c.type, c.recipient_hsa, c.dialect, c.transport,
              c.payload, c.attempts, c.first_attempt_at, (SELECT received_at FROM messages m WHERE m.id = c.message_pk) AS received_at),
  events AS (INSERT INTO copy_events (copy_id, state) SELECT id, ${event('claim')} FROM claimed)
  SELECT * FROM claimed ORDER BY id`;

const CLAIM = prepared(CLAIM_SQL);

/**
 * The copy that waits for each of the copies in `settled` (id, episode_id, recipient_hsa): the next
 * open copy of the same episode to the same recipient, if it is waiting to go (a state `claim` takes).
 * Read through copies_open_by_episode, one index probe per settled copy.
 */
const NEXT_WAITING = `SELECT n.id, n.attempts FROM settled d CROSS JOIN LATERAL (
      SELECT c.id, c.attempts, c.state FROM copies c
      WHERE c.episode_id = d.episode_id AND c.recipient_hsa = d.recipient_hsa AND c.id > d.id AND c.state NOT IN (${SETTLED_SQL})
      ORDER BY c.id LIMIT 1) n
    WHERE n.state IN (${from('claim')})`;

const [DELIVERED, ACKNOWLEDGED] = ['delivered', 'acknowledged'] as const;
for (const state of [DELIVERED, ACKNOWLEDGED]) checkTarget('deliver', state);

/**
 * Records copies ($1 ids) delivered at $2, with their events, and returns the copies each of them
 * held back (released at once: no timer polls for them). One statement, one round trip. Only copies
 * still being sent and not recorded delivered before (recording again after a commit whose answer
 * was lost neither counts the attempt twice nor repeats the event).
 */
export const RECORD_DELIVERED = prepared(`WITH settled AS (
    UPDATE copies SET state = CASE WHEN acknowledged_at IS NULL THEN '${DELIVERED}' ELSE '${ACKNOWLEDGED}' END,
      attempts = attempts + 1, delivered_at = $2, lease_until = NULL, lease_owner = NULL, last_error = NULL, updated_at = now()
    WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL AND ${foundIn('deliver')} RETURNING id, episode_id, recipient_hsa),
  events AS (INSERT INTO copy_events (copy_id, state) SELECT id, ${event('deliver')} FROM settled),
  ${listEpisodesSql('listed', 'settled')},
  -- Each recipient's last success moves on only when it is more than a second old: a steady stream of
  -- deliveries writes the recipient's health row about once a second, not once per copy (a row whose
  -- last success is recent is neither written nor locked); a recipient without a row gets one.
  recipients AS (SELECT DISTINCT recipient_hsa FROM settled),
  success AS (
    UPDATE recipient_health h SET last_success_at = now()
    FROM recipients r WHERE h.recipient_hsa = r.recipient_hsa AND (h.last_success_at IS NULL OR h.last_success_at < now() - interval '1 second')),
  first_success AS (
    INSERT INTO recipient_health (recipient_hsa, last_success_at)
    SELECT r.recipient_hsa, now() FROM recipients r WHERE NOT EXISTS (SELECT 1 FROM recipient_health h WHERE h.recipient_hsa = r.recipient_hsa)
    ON CONFLICT DO NOTHING)
  ${NEXT_WAITING}`);

/**
 * The copies held back by copies ($1 ids) that have settled. Read after the commit that settled them:
 * a statement sees the store as it was when it began, so the read inside the settling statement misses
 * a copy whose routing was committed while that statement ran (and that copy's own claim, made before
 * the commit, saw its predecessor still open).
 */
export const NEXT_AFTER_SETTLED = prepared(`WITH settled AS (SELECT id, episode_id, recipient_hsa FROM copies WHERE id = ANY($1::bigint[])) ${NEXT_WAITING}`);

/**
 * Marks copies ($1 ids) not claimed as looked at (the sweeper leaves them alone for SVU_STALE_AFTER)
 * and returns those of them that could be claimed now ($2: a failing recipient's probe): their
 * predecessor settled after the claim began, or the claim skipped them because another process held
 * the row for a moment (a release racing with that process's own look at the copy). The update waits
 * for such a lock instead of skipping it, and this statement begins after the claim ended.
 */
export const NOTE_HELD_BACK = prepared(`WITH held AS (
    UPDATE copies SET updated_at = now() WHERE id = ANY($1::bigint[]) AND ${foundIn('claim')}
    RETURNING id, attempts, episode_id, recipient_hsa)
  SELECT h.id, h.attempts FROM held h
  WHERE NOT EXISTS (
      SELECT 1 FROM copies e
      WHERE e.episode_id = h.episode_id AND e.recipient_hsa = h.recipient_hsa AND e.id < h.id AND e.state NOT IN (${SETTLED_SQL}))
    AND NOT EXISTS (
      SELECT 1 FROM recipient_health r
      WHERE r.recipient_hsa = h.recipient_hsa AND (r.paused_at IS NOT NULL OR (r.failing AND NOT $2::boolean)))
  ORDER BY h.id`);

/**
 * Dead-letters copies ($1 retry budget in ms, $2 the time of the deviation) of failing recipients that
 * failed again after the copy's budget (counted from its first attempt) had run out — as if each waiting
 * copy had been tried with the probe; at most 500 at a time, with events, dead letters and deviations.
 * Returns them. A copy never tried is not dead-lettered untried: the probe takes never-tried copies
 * first, and its budget starts then.
 */
export const EXPIRE_WAITING = `WITH expired AS (
    SELECT c.id FROM copies c JOIN recipient_health h ON h.recipient_hsa = c.recipient_hsa AND h.failing
    WHERE c.state IN (${from('expire')}) AND c.first_attempt_at < h.last_failure_at - $1 * interval '1 millisecond'
    ORDER BY c.id LIMIT 500 FOR UPDATE OF c SKIP LOCKED),
  dead AS (
    UPDATE copies c SET state = ${to('expire')}, lease_until = NULL, lease_owner = NULL, updated_at = now(),
      last_error = coalesce(c.last_error, 'not delivered within the retry budget: the recipient was failing')
    FROM expired WHERE c.id = expired.id
    RETURNING c.id, c.message_pk, c.message_id, c.episode_id, c.type, c.dialect, c.recipient_hsa, c.last_error),
  events AS (INSERT INTO copy_events (copy_id, state, detail) SELECT id, ${event('expire')}, last_error FROM dead),
  letters AS (
    INSERT INTO dead_letters (reason, message_pk, copy_id, message_id, episode_id, type, dialect, recipient_hsa, last_error)
    SELECT 'delivery-failed', message_pk, id, message_id, episode_id, type, dialect, recipient_hsa, last_error FROM dead),
  deviations AS (
    INSERT INTO deviations (kind, message_id, copy_id, unit_hsa, detail, at) SELECT 'dead-lettered', message_id, id, recipient_hsa, last_error, $2 FROM dead)
  SELECT id, message_id, recipient_hsa FROM dead ORDER BY id`;

const [ROUTED_AGAIN, RETRYING_AGAIN] = ['routed', 'retrying'] as const;
for (const state of [ROUTED_AGAIN, RETRYING_AGAIN]) checkTarget('take-over', state);

/**
 * Copies due for a fallback document: $1 admission margin (ms), $2 now, $3 limit, $4 the other types'
 * times after acceptance (jsonb, type → ms). Every type but acknowledgements: at once without an
 * electronic route, for an unknown recipient or when retries are exhausted (state manual or
 * dead-lettered); an admission at notifyBy − margin (not when late on arrival: that deadline has
 * passed); any other type when its time after acceptance has passed. The conditions on type,
 * fallback, delivery and state are written out as in the predicate of the partial index
 * copies_fallback_open, which holds only such open copies, so the question stays cheap however many
 * copies the store has (test/e2e/store checks the plan).
 */
export const FALLBACK_DUE_SQL = `SELECT c.id, c.message_id, c.recipient_hsa, c.type, c.state, c.last_error, c.notify_by, m.canonical
  FROM copies c JOIN messages m ON m.id = c.message_pk
  WHERE c.type <> 'acknowledgement' AND c.fallback_at IS NULL AND c.delivered_at IS NULL
    AND c.state NOT IN ('cancelled', 'delivered', 'acknowledged')
    AND (c.state IN ('manual', 'dead-lettered')
         OR (c.type = 'admission' AND NOT m.late_on_arrival AND c.notify_by - $1 * interval '1 millisecond' <= $2)
         OR (c.type <> 'admission' AND m.received_at + ($4::jsonb ->> c.type)::bigint * interval '1 millisecond' <= $2))
  ORDER BY c.id
  LIMIT $3 FOR UPDATE OF c SKIP LOCKED`;

/**
 * Cancellations to send by fax or letter because the cancelled message reached the unit that way
 * ($1 limit): each with the cancellation's copy to that unit, from the partial index of open rows.
 */
export const FOLLOW_UPS_SQL = `SELECT u.id AS follow_up_id, u.kind, c.id, c.message_id, c.recipient_hsa, c.type, c.state, c.last_error, c.notify_by, m.canonical
  FROM fallback_follow_ups u
    JOIN copies c ON c.message_id = u.cancellation_message_id AND c.recipient_hsa = u.recipient_hsa
    JOIN messages m ON m.id = c.message_pk
  WHERE u.done_at IS NULL
  ORDER BY u.id LIMIT $1 FOR UPDATE OF u SKIP LOCKED`;

/** Judges passed deadlines not judged yet ($1 now, $2 limit), from the partial index copies_deadline_unjudged. */
export const JUDGE_DEADLINES_SQL = `WITH due AS (
    SELECT id FROM copies WHERE notify_by IS NOT NULL AND deadline_checked_at IS NULL AND notify_by < $1
    ORDER BY notify_by LIMIT $2 FOR UPDATE SKIP LOCKED)
  UPDATE copies c SET deadline_checked_at = $1,
    deadline_missed_at = CASE WHEN missed THEN $1 END
  FROM (SELECT c.id,
          NOT m.late_on_arrival AND c.type = 'admission' AND c.state <> 'cancelled'
          AND (c.delivered_at IS NULL OR c.delivered_at > c.notify_by)
          AND (c.manual_delivered_at IS NULL OR c.manual_delivered_at > c.notify_by) AS missed
        FROM due JOIN copies c ON c.id = due.id JOIN messages m ON m.id = c.message_pk) AS j
  WHERE c.id = j.id
  RETURNING c.id, c.message_id, c.recipient_hsa, c.notify_by, j.missed`;

export interface ClaimedCopy {
  readonly id: string;
  readonly message_pk: string;
  readonly message_id: string;
  readonly episode_id: string;
  readonly type: string;
  readonly recipient_hsa: string;
  readonly dialect: Format;
  readonly transport: DirectoryUnit['transport'];
  readonly payload: Buffer;
  readonly attempts: number;
  readonly first_attempt_at: Date;
  readonly received_at: Date;
}

export interface PendingCopy {
  readonly id: string;
  readonly attempts: number;
  readonly message_pk: string;
  readonly recipient_hsa: string;
  readonly canonical: CanonicalMessage;
}

export interface RoutedCopy {
  readonly id: string;
  readonly state: 'routed' | 'manual';
  readonly dialect: Format;
  readonly transport: string;
  readonly payload: Buffer;
}

/** A copy due for a fallback document (FALLBACK_DUE_SQL, FOLLOW_UPS_SQL). */
export interface DueCopy {
  readonly id: string;
  readonly message_id: string;
  readonly recipient_hsa: string;
  readonly type: string;
  readonly state: string;
  readonly last_error: string | null;
  readonly notify_by: Date | null;
  readonly canonical: CanonicalMessage;
}

/** A copy and the attempt count its next job names. */
export interface CopyAttempt {
  readonly id: string;
  readonly attempts: number;
}

@Injectable()
export class CopiesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Ingress (`accept`, `accept-withheld`): the copies of the messages stored in `tx` (`messagePks`),
   * with their first events. (A batch that changes nothing stored before stores its copies in the
   * messages repository's one statement, from the same newCopiesSql.)
   */
  async accept(tx: Queryable, messagePks: readonly string[], copies: readonly CopyToStore[]): Promise<void> {
    await tx.query(ACCEPT, [messagePks, ...copyParams(copies)]);
  }

  /**
   * Router: the copies of these messages still waiting to be routed, locked (PENDING_SQL). Planned at
   * each call, not prepared: a prepared statement's generic plan is fixed by what the planner knows
   * when it is built, and a store's first lookups run while copies is nearly empty, where reading the
   * whole table is cheapest. Until the next ANALYZE of copies (never, with autovacuum off) every later
   * lookup on that connection then read every copy, at a cost that grows with the table
   * (docs/benchmarks.md, issue 15). Found by message, the lookup has no unique key to keep a
   * generic plan on an index, as the statements that find copies by id have in the primary key.
   */
  async pending(tx: Queryable, messagePks: readonly string[]): Promise<PendingCopy[]> {
    return (await tx.query<PendingCopy>(PENDING_SQL, [messagePks])).rows;
  }

  /** Router (`route`): copies PENDING_SQL locked, routed or manual, with their translations and events, in one statement. */
  async route(tx: Queryable, routed: readonly RoutedCopy[]): Promise<void> {
    if (routed.length === 0) return;
    for (const r of routed) checkTarget('route', r.state);
    await tx.query({
      ...ROUTED,
      values: [routed.map((r) => r.id), routed.map((r) => r.state), routed.map((r) => r.dialect), routed.map((r) => r.transport), routed.map((r) => r.payload)],
    });
  }

  /** Router (`unknown-recipient`): a copy whose recipient is not in the directory. False when it was no longer received. */
  async unknownRecipient(tx: Queryable, copyId: string): Promise<boolean> {
    const { rows } = await tx.query(
      `UPDATE copies SET state = ${to('unknown-recipient')}, last_error = 'unknown-recipient', updated_at = now() WHERE id = $1 AND ${foundIn('unknown-recipient')} RETURNING id`,
      [copyId],
    );
    await record(tx, 'unknown-recipient', rows.length > 0 ? [copyId] : [], 'unknown-recipient');
    return rows.length > 0;
  }

  /** Egress (`claim`): the copies that can go now, leased to `processId` for `leaseMs`, with their events. */
  claim(refs: ReadonlyArray<{ copyId: string; attempt: number }>, leaseMs: number, probe: boolean, processId: string): Promise<ClaimedCopy[]> {
    return this.db.query<ClaimedCopy>(CLAIM, [refs.map((r) => r.copyId), refs.map((r) => r.attempt), leaseMs, probe, processId]);
  }

  /**
   * Marks copies still waiting as looked at, so that the sweeper leaves them alone for SVU_STALE_AFTER;
   * returns those that turned out claimable after all (see NOTE_HELD_BACK).
   */
  async touchWaiting(copyIds: readonly string[], probe = false): Promise<CopyAttempt[]> {
    if (copyIds.length === 0) return [];
    return this.db.query<CopyAttempt>(NOTE_HELD_BACK, [copyIds, probe]);
  }

  /** Egress (`deliver`): copies delivered at `at`; returns the copies they held back. `on`: the connections to record over. */
  async delivered(copyIds: readonly string[], at: Date, on?: Queryable): Promise<CopyAttempt[]> {
    if (on === undefined) return this.db.query<CopyAttempt>(RECORD_DELIVERED, [copyIds, at]);
    return (await on.query<CopyAttempt>({ ...RECORD_DELIVERED, values: [copyIds, at] } as never)).rows;
  }

  /** Egress (`retry`): a failed attempt to be tried again. False when the copy was no longer being sent by it. */
  async retry(tx: Queryable, copyId: string, attempts: number, error: string, attempt?: AttemptDetail): Promise<boolean> {
    const { rows } = await tx.query(
      `UPDATE copies SET state = ${to('retry')}, attempts = $2, last_error = $3, last_attempt = $4, lease_until = NULL, lease_owner = NULL,
         next_attempt_at = now(), updated_at = now()
       WHERE id = $1 AND ${foundIn('retry')} RETURNING id`,
      [copyId, attempts, error, attempt === undefined ? null : JSON.stringify(attempt)],
    );
    await record(tx, 'retry', rows.length > 0 ? [copyId] : [], error, undefined, attempt);
    return rows.length > 0;
  }

  /** Egress (`fail`): a copy that failed for good. False when the copy was no longer being sent by this attempt. */
  async fail(tx: Queryable, copyId: string, attempts: number, error: string, attempt?: AttemptDetail): Promise<boolean> {
    const { rows } = await tx.query(
      `UPDATE copies SET state = ${to('fail')}, attempts = $2, last_error = $3, last_attempt = $4, lease_until = NULL, lease_owner = NULL, updated_at = now()
       WHERE id = $1 AND ${foundIn('fail')} RETURNING id`,
      [copyId, attempts, error, attempt === undefined ? null : JSON.stringify(attempt)],
    );
    await record(tx, 'fail', rows.length > 0 ? [copyId] : [], error, undefined, attempt);
    return rows.length > 0;
  }

  /** The copies waiting for these copies, which have settled. */
  async nextAfterSettled(tx: Queryable, copyIds: readonly string[]): Promise<CopyAttempt[]> {
    return (await tx.query<CopyAttempt>({ ...NEXT_AFTER_SETTLED, values: [copyIds] } as never)).rows;
  }

  /** The copies waiting for these copies, read after the commit that settled them (see NEXT_AFTER_SETTLED). */
  nextAfterCommit(copyIds: readonly string[]): Promise<CopyAttempt[]> {
    return this.db.query<CopyAttempt>(NEXT_AFTER_SETTLED, [copyIds]);
  }

  /** Egress (`expire`): copies of failing recipients past their retry budget, with dead letters and deviations. */
  expireWaiting(budgetMs: number, at: Date): Promise<Array<{ id: string; message_id: string; recipient_hsa: string }>> {
    return this.db.query(EXPIRE_WAITING, [budgetMs, at]);
  }

  /** Sweeper: messages with copies not routed for `staleMs`, marked as looked at. */
  async staleReceived(staleMs: number, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ message_pk: string }>(
      `WITH stale AS (
         SELECT id FROM copies WHERE state IN (${from('route')}) AND updated_at < now() - $1 * interval '1 millisecond'
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE copies c SET updated_at = now() FROM stale WHERE c.id = stale.id RETURNING c.message_pk`,
      [staleMs, limit],
    );
    return rows.map((r) => r.message_pk);
  }

  /**
   * Sweeper (`take-over`): copies of a process that died while sending: it has not said it is alive
   * for `takeoverAfterMs` (or its lease ran out), so the attempt is open again. Heartbeats are compared
   * with the newest one, not with the clock: after a store outage every process is late, and a live
   * one has said so again within a heartbeat or two of the store coming back.
   */
  async takeOver(limit: number, backdateMs: number, takeoverAfterMs: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `WITH newest AS (SELECT max(heartbeat_at) AS at FROM egress_processes),
         expired AS (
         SELECT c.id FROM copies c LEFT JOIN egress_processes p ON p.id = c.lease_owner
         WHERE c.state IN (${from('take-over')})
           AND (c.lease_until < now()
                OR (c.lease_owner IS NOT NULL AND coalesce(p.heartbeat_at, '-infinity') < (SELECT at FROM newest) - $3 * interval '1 millisecond'))
         ORDER BY c.id LIMIT $1 FOR UPDATE OF c SKIP LOCKED)
       UPDATE copies c SET state = CASE WHEN c.attempts = 0 THEN '${ROUTED_AGAIN}' ELSE '${RETRYING_AGAIN}' END,
         next_attempt_at = now() - $2 * interval '1 millisecond', lease_until = NULL, lease_owner = NULL, updated_at = now() - $2 * interval '1 millisecond'
       FROM expired WHERE c.id = expired.id RETURNING c.id`,
      [limit, backdateMs, takeoverAfterMs],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Sweeper: routed or retrying copies with no job moving them, marked as looked at. Not those of a
   * failing or paused recipient: they wait for its probe or its release.
   */
  staleWaiting(staleMs: number, limit: number): Promise<CopyAttempt[]> {
    return this.db.query<CopyAttempt>(
      `WITH stale AS (
         SELECT id FROM copies c
         WHERE state IN (${from('claim')}) AND updated_at < now() - $1 * interval '1 millisecond'
           AND (next_attempt_at IS NULL OR next_attempt_at < now() - $1 * interval '1 millisecond')
           AND NOT EXISTS (SELECT 1 FROM recipient_health h WHERE h.recipient_hsa = c.recipient_hsa AND (h.failing OR h.paused_at IS NOT NULL))
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE copies c SET updated_at = now() FROM stale WHERE c.id = stale.id RETURNING c.id, c.attempts`,
      [staleMs, limit],
    );
  }

  /**
   * Ingress (`cancel`, docs/rules.md, rule 5): the copies of message `messageId` of `senderSystem` in
   * `episodeId` to these recipients that have not gone out yet. Returns them.
   */
  async cancelPending(
    tx: Queryable,
    target: { messageId: string; recipients: readonly string[]; senderSystem: string; episodeId: string },
    cancelledBy: string,
  ): Promise<Array<{ id: string; recipient_hsa: string }>> {
    const { rows } = await tx.query<{ id: string; recipient_hsa: string }>(
      `UPDATE copies c SET state = ${to('cancel')}, updated_at = now()
       FROM messages m
       WHERE m.id = c.message_pk AND m.sender_system = $3 AND m.episode_id = $4
         AND c.message_id = $1 AND c.recipient_hsa = ANY($2) AND ${foundIn('cancel', 'c.state')}
       RETURNING c.id, c.recipient_hsa`,
      [target.messageId, target.recipients, target.senderSystem, target.episodeId],
    );
    await record(tx, 'cancel', rows.map((r) => r.id), `by ${cancelledBy}`);
    return rows;
  }

  /**
   * Ingress (`withdraw`): the copies of the cancelled message (`own`, an SQL list of copy ids over
   * $3 sender system and $4 episode) that only a fallback document would have delivered and that were
   * not delivered by hand. Returns them.
   */
  async withdraw(
    tx: Queryable,
    target: { messageId: string; recipients: readonly string[]; senderSystem: string; episodeId: string },
    cancelledBy: string,
  ): Promise<Array<{ id: string; recipient_hsa: string }>> {
    const { rows } = await tx.query<{ id: string; recipient_hsa: string }>(
      `UPDATE copies SET state = ${to('withdraw')}, updated_at = now()
       WHERE message_id = $1 AND recipient_hsa = ANY($2) AND ${foundIn('withdraw')} AND manual_delivered_at IS NULL
         AND id IN (SELECT c.id FROM copies c JOIN messages m ON m.id = c.message_pk WHERE m.message_id = $1 AND m.sender_system = $3 AND m.episode_id = $4)
       RETURNING id, recipient_hsa`,
      [target.messageId, target.recipients, target.senderSystem, target.episodeId],
    );
    await record(tx, 'withdraw', rows.map((r) => r.id), `by ${cancelledBy}`);
    return rows;
  }

  /** Ingress (`withdraw-document`): the history of copies whose fallback document a cancellation withdrew. */
  documentsWithdrawn(tx: Queryable, copyIds: readonly string[], cancelledBy: string): Promise<void> {
    return record(tx, 'withdraw-document', copyIds, `fallback document withdrawn by ${cancelledBy}`);
  }

  /**
   * Ingress (`acknowledge`, docs/rules.md, rule 6): marks the copies of `messageId` addressed to
   * `recipientHsa` in `episodeId` acknowledged at `at` (the gateway's clock); a delivered one becomes
   * acknowledged. Returns them.
   */
  async acknowledge(tx: Queryable, target: { messageId: string; recipientHsa: string; episodeId: string }, detail: string, at: Date): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `UPDATE copies SET acknowledged_at = $4, updated_at = now(), state = ${movedState('acknowledge')}
       WHERE message_id = $1 AND recipient_hsa = $2 AND episode_id = $3 AND ${foundIn('acknowledge')} RETURNING id`,
      [target.messageId, target.recipientHsa, target.episodeId, at],
    );
    const ids = rows.map((r) => r.id);
    await record(tx, 'acknowledge', ids, detail);
    return ids;
  }

  /** Console (`replay`): a dead-lettered copy sent again from the start. Undefined when it is no longer dead-lettered. */
  async replay(copyId: string, by: string): Promise<{ id: string; message_pk: string } | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; message_pk: string }>(
        `UPDATE copies SET state = ${to('replay')}, first_attempt_at = NULL, last_error = NULL, next_attempt_at = NULL, updated_at = now()
         WHERE id = $1 AND ${foundIn('replay')} RETURNING id, message_pk`,
        [copyId],
      );
      await record(tx, 'replay', rows.length > 0 ? [copyId] : [], `replayed by ${by}`);
      return rows[0];
    });
  }

  /** Retention: the copies of these messages lose their translated payloads (their messages' payloads are pruned). */
  async clearPayloads(tx: Queryable, messageIds: readonly string[]): Promise<void> {
    await tx.query('UPDATE copies SET payload = NULL WHERE message_id = ANY($1::text[]) AND payload IS NOT NULL', [messageIds]);
  }

  /** Console: a copy's history (copy_events), oldest first, with each failed attempt's endpoint, status and answer. */
  history(copyId: string): Promise<Array<{ state: string; at: Date; detail: string | null; attempt: AttemptDetail | null }>> {
    return this.db.query('SELECT state, at, detail, attempt FROM copy_events WHERE copy_id = $1 ORDER BY id', [copyId]);
  }

  /** Deadlines: copies due for a fallback document (FALLBACK_DUE_SQL), locked. */
  async dueForFallback(tx: Queryable, marginMs: number, now: Date, limit: number, delays: string): Promise<DueCopy[]> {
    return (await tx.query<DueCopy>(FALLBACK_DUE_SQL, [marginMs, now, limit, delays])).rows;
  }

  /** Deadlines: cancellations to send by fax or letter (FOLLOW_UPS_SQL), locked. */
  async followUpsDue(tx: Queryable, limit: number): Promise<Array<DueCopy & { follow_up_id: string; kind: 'fax' | 'letter' }>> {
    return (await tx.query<DueCopy & { follow_up_id: string; kind: 'fax' | 'letter' }>(FOLLOW_UPS_SQL, [limit])).rows;
  }

  /** Deadlines (`fall-back`): the copy has its fallback document; the event only when the document is new. */
  async fellBack(tx: Queryable, copyId: string, at: Date, documentIsNew: boolean, detail: string): Promise<void> {
    await tx.query('UPDATE copies SET fallback_at = $2, updated_at = now() WHERE id = $1 AND fallback_at IS NULL', [copyId, at]);
    if (documentIsNew) await record(tx, 'fall-back', [copyId], detail);
  }

  /** Console (`deliver-by-hand`): the copy's fallback document reached its recipient at `deliveredAt`. */
  async deliveredByHand(tx: Queryable, copyId: string, deliveredAt: Date, detail: string): Promise<void> {
    await tx.query('UPDATE copies SET manual_delivered_at = $2, updated_at = now() WHERE id = $1', [copyId, deliveredAt]);
    await record(tx, 'deliver-by-hand', [copyId], detail);
  }

  /**
   * Console (`undo-deliver-by-hand`): marking the copy's document sent was undone — the copy is no
   * longer delivered by hand (its state was not changed by marking and stays). A deadline judged met
   * since `markedAt` (by that delivery) is judged again.
   */
  async undoDeliveredByHand(tx: Queryable, copyId: string, markedAt: Date, detail: string): Promise<void> {
    await tx.query(
      `UPDATE copies SET manual_delivered_at = NULL, updated_at = now(),
         deadline_checked_at = CASE WHEN deadline_checked_at >= $2 AND deadline_missed_at IS NULL THEN NULL ELSE deadline_checked_at END
       WHERE id = $1`,
      [copyId, markedAt],
    );
    await record(tx, 'undo-deliver-by-hand', [copyId], detail);
  }

  /** Deadlines: judges passed deadlines not judged yet (JUDGE_DEADLINES_SQL). */
  async judgeDeadlines(tx: Queryable, now: Date, limit: number): Promise<Array<{ id: string; message_id: string; recipient_hsa: string; notify_by: Date; missed: boolean }>> {
    return (await tx.query<{ id: string; message_id: string; recipient_hsa: string; notify_by: Date; missed: boolean }>(JUDGE_DEADLINES_SQL, [now, limit])).rows;
  }
}
