/**
 * The store's schema, applied in order at start under an advisory lock (several processes may start
 * at once). A migration is never edited once released; a change is a new entry.
 */
export const MIGRATIONS: ReadonlyArray<{ readonly version: string; readonly sql: string }> = [
  {
    version: '001-messages-copies',
    sql: `
      CREATE TABLE messages (
        id bigserial PRIMARY KEY,
        message_id text NOT NULL UNIQUE,
        type text NOT NULL,
        episode_id text NOT NULL,
        sender_hsa text NOT NULL,
        dialect text NOT NULL,
        ingress text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz NOT NULL,
        payload bytea NOT NULL,
        canonical jsonb NOT NULL,
        notify_by timestamptz,
        late_on_arrival boolean NOT NULL DEFAULT false
      );
      CREATE INDEX messages_episode ON messages (episode_id, id);

      -- One copy per recipient; its id is the acceptance order that per-episode delivery follows.
      CREATE TABLE copies (
        id bigserial PRIMARY KEY,
        message_pk bigint NOT NULL REFERENCES messages (id),
        message_id text NOT NULL,
        episode_id text NOT NULL,
        type text NOT NULL,
        recipient_hsa text NOT NULL,
        recipient_role text NOT NULL,
        dialect text,
        transport jsonb,
        state text NOT NULL,
        payload bytea,
        attempts integer NOT NULL DEFAULT 0,
        first_attempt_at timestamptz,
        next_attempt_at timestamptz,
        lease_until timestamptz,
        last_error text,
        notify_by timestamptz,
        delivered_at timestamptz,
        acknowledged_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (message_pk, recipient_hsa)
      );
      CREATE INDEX copies_open_by_episode ON copies (episode_id, recipient_hsa, id)
        WHERE state NOT IN ('delivered', 'acknowledged', 'dead-lettered', 'cancelled', 'manual');
      CREATE INDEX copies_stale ON copies (state, updated_at)
        WHERE state IN ('received', 'routed', 'sending', 'retrying');
      CREATE INDEX copies_message ON copies (message_id);

      CREATE TABLE copy_events (
        id bigserial PRIMARY KEY,
        copy_id bigint NOT NULL REFERENCES copies (id),
        state text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        detail text
      );
      CREATE INDEX copy_events_copy ON copy_events (copy_id, id);

      -- The dead-letter queue of record: invalid messages and copies that could not be delivered.
      CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        message_pk bigint REFERENCES messages (id),
        copy_id bigint REFERENCES copies (id),
        message_id text,
        episode_id text,
        type text,
        dialect text,
        recipient_hsa text,
        reason text NOT NULL,
        problems jsonb,
        last_error text,
        payload bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolution text,
        resolved_by text
      );
      CREATE INDEX dead_letters_open ON dead_letters (created_at DESC, id DESC) WHERE resolved_at IS NULL;
      CREATE INDEX dead_letters_message ON dead_letters (message_id);
      CREATE INDEX dead_letters_episode ON dead_letters (episode_id);

      CREATE TABLE deviations (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        message_id text,
        copy_id bigint REFERENCES copies (id),
        unit_hsa text,
        at timestamptz NOT NULL DEFAULT now(),
        detail text
      );
      CREATE INDEX deviations_at ON deviations (at);
    `,
  },
  {
    version: '002-deadlines-fallback-day-zero',
    sql: `
      ALTER TABLE messages ALTER COLUMN received_at DROP DEFAULT;
      ALTER TABLE copies
        ADD COLUMN fallback_at timestamptz,
        ADD COLUMN manual_delivered_at timestamptz,
        ADD COLUMN deadline_missed_at timestamptz;
      CREATE INDEX copies_deadline ON copies (notify_by) WHERE notify_by IS NOT NULL AND fallback_at IS NULL;

      -- Fallback documents and the manual-dispatch queue: one per copy at most, generated once.
      CREATE TABLE fallback_documents (
        id bigserial PRIMARY KEY,
        copy_id bigint NOT NULL UNIQUE REFERENCES copies (id),
        message_id text NOT NULL,
        recipient_hsa text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('letter', 'fax')),
        trigger text NOT NULL,
        reference text NOT NULL UNIQUE,
        deadline timestamptz,
        pdf bytea NOT NULL,
        created_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'sent')),
        sent_via text CHECK (sent_via IN ('fax', 'letter')),
        sent_at timestamptz,
        sent_by text
      );
      CREATE INDEX fallback_documents_waiting ON fallback_documents (created_at, id) WHERE status = 'waiting';

      -- Day 0 of each ready-for-discharge notice: the Swedish date it was sent. Later notices of the
      -- same episode are kept beside earlier ones, as history.
      CREATE TABLE day_zero (
        id bigserial PRIMARY KEY,
        episode_id text NOT NULL,
        message_id text NOT NULL UNIQUE,
        day_zero date NOT NULL,
        sent_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        cancelled_at timestamptz
      );
      CREATE INDEX day_zero_episode ON day_zero (episode_id, sent_at);
      CREATE INDEX deviations_unit ON deviations (unit_hsa, at);
    `,
  },
  {
    version: '003-console-audit',
    sql: `
      -- Every action and every view of a message's patient data. Entries are never changed or removed.
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        username text NOT NULL,
        role text NOT NULL,
        action text NOT NULL,
        target text,
        detail jsonb
      );
      CREATE FUNCTION audit_log_unchangeable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log entries cannot be changed or removed'; END $$;
      CREATE TRIGGER audit_log_unchangeable BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_unchangeable();

      CREATE TABLE bulk_jobs (
        id bigserial PRIMARY KEY,
        action text NOT NULL CHECK (action IN ('replay', 'discard')),
        filter jsonb NOT NULL,
        reason text,
        total integer NOT NULL,
        done integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled')),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );

      ALTER TABLE dead_letters ADD COLUMN resolution_detail text;
      CREATE INDEX dead_letters_open_reason ON dead_letters (reason, created_at DESC, id DESC) WHERE resolved_at IS NULL;
      CREATE INDEX dead_letters_open_dialect ON dead_letters (dialect, created_at DESC, id DESC) WHERE resolved_at IS NULL;
      CREATE INDEX dead_letters_open_recipient ON dead_letters (recipient_hsa, created_at DESC, id DESC) WHERE resolved_at IS NULL;
      CREATE INDEX dead_letters_open_type ON dead_letters (type, created_at DESC, id DESC) WHERE resolved_at IS NULL;
      CREATE INDEX dead_letters_all ON dead_letters (created_at DESC, id DESC);
    `,
  },
  {
    version: '004-episode-notes',
    sql: `
      -- What operators record about an episode for follow-up reports: a delay the region caused.
      CREATE TABLE episode_notes (
        episode_id text PRIMARY KEY,
        region_caused boolean NOT NULL DEFAULT false,
        note text,
        noted_by text NOT NULL,
        noted_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX messages_municipality ON messages ((canonical -> 'patient' ->> 'municipality'));
    `,
  },
  {
    version: '005-deadline-indexes-that-stay-small',
    sql: `
      -- The deadline watcher's two questions are answered from indexes that hold only the copies still
      -- in question, so a round costs the same after a year as on the first day: copies that may need
      -- a fallback document (open admission copies without one), and copies whose deadline has not
      -- been judged yet (missed or kept, judged once, when it has passed).
      ALTER TABLE copies ADD COLUMN deadline_checked_at timestamptz;
      UPDATE copies SET deadline_checked_at = deadline_missed_at WHERE deadline_missed_at IS NOT NULL;
      DROP INDEX copies_deadline;
      CREATE INDEX copies_fallback_due ON copies (notify_by)
        WHERE notify_by IS NOT NULL AND fallback_at IS NULL AND delivered_at IS NULL AND state NOT IN ('cancelled', 'delivered', 'acknowledged');
      CREATE INDEX copies_deadline_unjudged ON copies (notify_by) WHERE notify_by IS NOT NULL AND deadline_checked_at IS NULL;
    `,
  },
  {
    version: '009-report-episodes',
    sql: `
      -- Placing municipality (it pays, seeds 001/003), recorded by operators: the message schema has no field for it.
      ALTER TABLE episode_notes ADD COLUMN placing_municipality text;
      ALTER TABLE episode_notes ALTER COLUMN region_caused SET DEFAULT false;

      -- Payment-liability facts per episode, whatever the rule set (docs/payment-liability.md): kept up
      -- to date by the report queries from what changed since the last refresh, so a report over a
      -- year aggregates these rows in SQL instead of reading every message.
      CREATE TABLE report_episodes (
        episode_id text PRIMARY KEY,
        registration_municipality text,
        placing_municipality text,
        municipality text,
        hospital_unit text,
        admitted_at timestamptz,
        admitted_date date,
        discharged_at timestamptz,
        discharge_date date,
        ready jsonb,
        day0_sent date,
        day0_ready date,
        wait_sent integer,
        wait_ready integer,
        admission jsonb,
        estimate jsonb,
        sip jsonb,
        sip_required boolean NOT NULL,
        outpatient_only boolean NOT NULL,
        region_caused boolean NOT NULL,
        pre_admission boolean NOT NULL,
        pre_estimate boolean NOT NULL,
        pre_ready boolean NOT NULL,
        pre_sip boolean NOT NULL,
        notifications integer NOT NULL,
        notifications_on_time integer NOT NULL,
        refreshed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX report_episodes_discharge ON report_episodes (discharge_date, municipality);
      CREATE INDEX report_episodes_admitted ON report_episodes (admitted_date);
      CREATE TABLE report_refresh (
        id integer PRIMARY KEY CHECK (id = 1),
        messages_id bigint NOT NULL,
        copy_events_id bigint NOT NULL,
        notes_at timestamptz NOT NULL,
        -- The oldest transaction still running at the last refresh: rows it (or a later one) wrote
        -- below the marks were not visible then, and are read again.
        snapshot_xmin xid8 NOT NULL
      );
      INSERT INTO report_refresh VALUES (1, 0, 0, '-infinity', '3');
    `,
  },
];
