import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { CLAIM_SQL, CopiesRepository, FALLBACK_DUE_SQL, JUDGE_DEADLINES_SQL, NOTE_HELD_BACK, PENDING_SQL, RECORD_DELIVERED, type CopyToStore } from '../../apps/gateway/src/store/copies.repository';
import { Database } from '../../apps/gateway/src/store/database';
import { MessagesRepository, type MessageToStore } from '../../apps/gateway/src/store/messages.repository';
import type { CanonicalMessage } from '@svu/canonical';
import { Client } from 'pg';
import { query } from '../support/gateway-harness';
import { createTestServices, type TestServices } from '../support/services';

let services: TestServices;
let db: Database;

beforeAll(async () => {
  services = await createTestServices('store');
  db = new Database(loadConfig({ DATABASE_URL: services.databaseUrl }));
  await db.migrate();
}, 60_000);

afterAll(async () => {
  await db?.onApplicationShutdown();
  await services?.cleanup();
});

/** The plan PostgreSQL uses for `sql` as a prepared statement after several runs (a generic plan). */
async function genericPlan(sql: string, params: string[], on: Database = db): Promise<string> {
  return on.transaction(async (tx) => {
    await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await tx.query(`PREPARE hot AS ${sql}`);
    const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE hot(${params.join(', ')})`);
    await tx.query('DEALLOCATE hot');
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

/** `count` messages with ids `<prefix>-1`… (each its own episode), and one copy each in `state` (an SQL expression over the message's `id`). */
async function messagesWithCopies(prefix: string, count: number, state: string, extra: { columns: string; values: string } = { columns: '', values: '' }, on: Database = db): Promise<void> {
  await on.query(
    `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late_on_arrival, received_at)
     SELECT '${prefix}-' || g, 'message', '${prefix}-EP-' || g, 'SE2321000016-H1', 'lifecare', 'amqp', now(), '\\x00', '{}', NULL, false, now()
     FROM generate_series(1, ${count}) AS g`,
  );
  await on.query(
    `INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, state${extra.columns})
     SELECT id, message_id, episode_id, 'message', 'SE2120000007-R1', 'primary-care', ${state}${extra.values}
     FROM messages WHERE message_id LIKE '${prefix}-%'`,
  );
}

describe('the store when a connection is lost inside a transaction', () => {
  it('fails that transaction, keeps the process up, and serves the next one on a fresh connection', async () => {
    const failed = db.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The connection ends while no statement is running (as during a database restart while a
      // fallback document is being rendered): the client reports it as an 'error' event.
      await query(services.databaseUrl, 'SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tx.query('SELECT 1');
    });
    await expect(failed).rejects.toThrow();
    const after = await db.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one);
    expect(after).toBe(1);
  });
});

describe('the hot queries as history grows', () => {
  // A year of a small region: 30,000 admission copies, long delivered and judged, over 3,000 episodes.
  beforeAll(async () => {
    await db.query(
      `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late_on_arrival, received_at)
       SELECT 'HIST-' || g, 'admission', 'HIST-EP-' || (g % 3000), 'SE2321000016-H1', 'lifecare', 'amqp', now() - interval '300 days',
              '\\x00', '{}', now() - interval '300 days' + g * interval '1 minute', false, now() - interval '300 days'
       FROM generate_series(1, 30000) AS g`,
    );
    await db.query(
      `INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, notify_by, state, delivered_at, deadline_checked_at)
       SELECT id, message_id, episode_id, 'admission', 'SE2120000007-R1', 'primary-care', notify_by, 'delivered', received_at, notify_by FROM messages`,
    );
    await db.query('ANALYZE messages');
    await db.query('ANALYZE copies');
  }, 60_000);

  it.each([
    ['deadline watcher: copies due for a fallback document', FALLBACK_DUE_SQL, ['7200000', 'now()', '20', `'{"message": 14400000}'`], 'copies_fallback_open'],
    ['deadline watcher: deadlines not judged yet', JUDGE_DEADLINES_SQL, ['now()', '500'], 'copies_deadline_unjudged'],
    ['egress: claim with the per-episode order check', CLAIM_SQL, ["'{1,2,3}'", "'{0,0,0}'", '90000', 'false', "'p'"], 'copies_open_by_episode'],
  ])('%s reads a partial index of the open copies, never the whole table', async (_, sql, params, index) => {
    const plan = await genericPlan(sql, params);
    expect(plan).toContain(index);
    expect(plan).not.toMatch(/Seq Scan on copies/);
  });
});

describe('the egress claim with a backlog the statistics do not know of yet', () => {
  // 30,000 copies routed since the last ANALYZE (a backlog building while a recipient is down): the
  // planner believes few copies are open, and must still look a batch's copies up by key rather than
  // read every open copy for each batch of 250 (which would make draining the backlog quadratic).
  it('looks the batch up by key', async () => {
    await db.query('ANALYZE copies');
    await messagesWithCopies('BACKLOG', 30_000, "'routed'", { columns: ', dialect, transport', values: `, 'samsa', '{"kind":"amqp","routingKey":"k"}'` });
    const ids = (await db.query<{ id: string }>("SELECT id FROM copies WHERE message_id LIKE 'BACKLOG-%' ORDER BY id LIMIT 250")).map((r) => r.id);
    const plan = await db.transaction(async (tx) => (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${CLAIM_SQL}`, [ids, ids.map(() => 0), 90_000, false, 'p'])).rows);
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index Cond: \(id = ANY/);
    expect(text).not.toMatch(/Seq Scan on copies|copies_stale/);
  }, 60_000);
});

describe('the router with many copies routed since the last vacuum', () => {
  // Under load every copy passes 'received' on its way to 'delivered', and the partial index
  // copies_stale keeps an entry for each until vacuum. The router's prepared (generic) plan must find
  // a job's copies by message key, not by reading those entries for every job.
  it('looks the pending copies up by message key in its generic plan', async () => {
    await messagesWithCopies('ROUTED', 20_000, "CASE WHEN id % 1000 = 0 THEN 'received' ELSE 'delivered' END");
    await db.query('ANALYZE copies');
    const plan = await genericPlan(PENDING_SQL, ["'{1,2,3,4,5,6,7,8,9,10}'"]);
    expect(plan).toMatch(/Index Cond: \(message_pk = ANY/);
    expect(plan).not.toMatch(/Seq Scan on copies|copies_stale/);
  }, 60_000);
});

describe('router and egress in a store whose copies were never analyzed', () => {
  // A store under its first load (before autovacuum's first ANALYZE of copies, or with autovacuum
  // off). The router's first lookups ran while copies was nearly empty. Every delivered copy passed
  // 'sending', and copies_stale keeps an entry for each until vacuum; without statistics the planner
  // guesses few copies in that state and ANDs that index into a lookup by key, so that each recording
  // read every such entry, more with every copy delivered before it (bench:load, docs/benchmarks.md).
  // Each of these statements must find its copies by key alone.
  let fresh: TestServices;
  let store: Database;
  // One connection, as the router's pool keeps one: its first lookups run while the store is small.
  let router: Client;
  beforeAll(async () => {
    fresh = await createTestServices('store_unanalyzed');
    store = new Database(loadConfig({ DATABASE_URL: fresh.databaseUrl }));
    await store.migrate();
    router = new Client({ connectionString: fresh.databaseUrl });
    await router.connect();
    await messagesWithCopies('SMALL', 20, "'received'", undefined, store);
    const copies = new CopiesRepository(store);
    for (let i = 0; i < 8; i++) await copies.pending(router, ['1', '2', '3']);
    await messagesWithCopies('GROWN', 29_980, "'received'", undefined, store);
    await store.query(`UPDATE copies SET state = CASE WHEN id % 100 = 0 THEN 'sending' ELSE 'delivered' END WHERE message_pk > 100`);
  }, 60_000);

  afterAll(async () => {
    await router?.end();
    await store?.onApplicationShutdown();
    await fresh?.cleanup();
  });

  it("the router finds a job's pending copies by key on a connection whose first lookups ran while the store was small", async () => {
    // The connection's scans of copies not yet reported to the shared statistics (earlier ones included).
    const scans = async () => {
      const { rows } = await router.query<{ seq_scan: string; idx_scan: string }>("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'copies'");
      return { seq: Number(rows[0]!.seq_scan), index: Number(rows[0]!.idx_scan) };
    };
    await router.query('BEGIN');
    try {
      const before = await scans();
      const found = await new CopiesRepository(store).pending(router, ['50', '60', '70']);
      const after = await scans();
      expect(found.map((c) => c.message_pk)).toEqual(['50', '60', '70']);
      expect(after.seq - before.seq).toBe(0);
      expect(after.index - before.index).toBeGreaterThan(0);
    } finally {
      await router.query('ROLLBACK');
    }
  });

  it.each([
    ['recording delivered copies', RECORD_DELIVERED.text, ["'{1,2,3}'", 'now()']],
    ['noting copies a claim held back', NOTE_HELD_BACK.text, ["'{1,2,3}'", 'false']],
  ])('%s looks the copies up by key in its generic plan', async (_, sql, params) => {
    const plan = await genericPlan(sql, params, store);
    expect(plan).toMatch(/Index Cond: \(id = ANY/);
    expect(plan).not.toMatch(/Seq Scan on copies|copies_stale/);
  });
});

describe('the write path lists the episodes whose payment-liability facts it changes', () => {
  const pending = async (episodes: string[]) =>
    (await db.query<{ episode_id: string; n: number }>('SELECT episode_id, count(*)::int AS n FROM report_pending WHERE episode_id = ANY($1) GROUP BY 1 ORDER BY 1', [episodes])).map((r) => [r.episode_id, r.n]);
  const message = (id: string, episodeId: string): MessageToStore => ({
    messageId: id,
    type: 'admission',
    episodeId,
    senderHsa: 'SE2321000016-H1',
    dialect: 'canonical',
    ingress: 'http',
    sentAt: '2026-05-01T08:00:00Z',
    payload: Buffer.from('{}'),
    canonical: {} as CanonicalMessage,
    notifyBy: null,
    lateOnArrival: false,
    senderSystem: 'LIST-SYS',
  });
  const copy = (id: string): CopyToStore => ({ senderSystem: 'LIST-SYS', messageId: id, recipientHsa: 'SE2120000007-R1', role: 'municipal-health-care', withheld: false });

  it('ingress in one statement, ingress in steps and a delivery each list their episodes once per statement, in their own transaction', async () => {
    const messages = new MessagesRepository(db);
    const copies = new CopiesRepository(db);
    await messages.storeSimple([message('LIST-1', 'LIST-EP-A'), message('LIST-2', 'LIST-EP-A'), message('LIST-3', 'LIST-EP-B')], new Date(), [copy('LIST-1'), copy('LIST-2'), copy('LIST-3')]);
    expect(await pending(['LIST-EP-A', 'LIST-EP-B'])).toEqual([['LIST-EP-A', 1], ['LIST-EP-B', 1]]);

    await expect(
      db.transaction(async (tx) => {
        const stored = await messages.insert(tx, [message('LIST-4', 'LIST-EP-C')], new Date());
        await copies.accept(tx, stored.map((m) => m.id), [copy('LIST-4')]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await pending(['LIST-EP-C'])).toEqual([]);
    await db.transaction(async (tx) => {
      const stored = await messages.insert(tx, [message('LIST-4', 'LIST-EP-C')], new Date());
      await copies.accept(tx, stored.map((m) => m.id), [copy('LIST-4')]);
    });
    expect(await pending(['LIST-EP-C'])).toEqual([['LIST-EP-C', 2]]);

    await db.query("DELETE FROM report_pending WHERE episode_id LIKE 'LIST-EP-%'");
    const ids = (await db.query<{ id: string }>("UPDATE copies SET state = 'sending' WHERE message_id IN ('LIST-1', 'LIST-2', 'LIST-3') RETURNING id")).map((r) => r.id);
    expect(await pending(['LIST-EP-A', 'LIST-EP-B'])).toEqual([]); // a state change alone changes no fact
    await copies.delivered(ids, new Date());
    expect(await pending(['LIST-EP-A', 'LIST-EP-B'])).toEqual([['LIST-EP-A', 1], ['LIST-EP-B', 1]]);
    await copies.delivered(ids, new Date()); // recorded again: nothing changes, nothing listed
    expect(await pending(['LIST-EP-A', 'LIST-EP-B'])).toEqual([['LIST-EP-A', 1], ['LIST-EP-B', 1]]);
  });
});
