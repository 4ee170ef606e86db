/**
 * The store's schema, applied in order at start under an advisory lock (several processes may start
 * at once). A migration is never edited once released; a change is a new entry.
 */
/**
 * Migration 023: an episode's contribution to the month aggregates, from rows of report_episodes
 * (`rows`, with a column `sign`: +1 for a row's new version, -1 for its old one). Report_months: per
 * discharge month and group (payer municipality, hospital unit), per waiting days (both day-0
 * sources; -1 none) and the facts a rule set may ask for (flags), the number of episodes and how many
 * were placed by another municipality; report_notification_months: per admission month and group,
 * the admission notifications and how many reached the recipient in time.
 */
const REPORT_MONTH_FLAGS = `(pre_admission::int + 2 * pre_estimate::int + 4 * pre_ready::int + 8 * pre_sip::int + 16 * outpatient_only::int + 32 * region_caused::int)`;
const reportMonthsApply = (rows: string) => `
  INSERT INTO report_months AS r (month, group_kind, grp, wait_sent, wait_ready, flags, episodes, placed)
    SELECT month, group_kind, grp, ws, wr, flags, sum(n), sum(placed) FROM (
      SELECT date_trunc('month', discharge_date)::date AS month, 'municipality' AS group_kind, municipality AS grp, coalesce(wait_sent, -1) AS ws,
        coalesce(wait_ready, -1) AS wr, ${REPORT_MONTH_FLAGS} AS flags, sign AS n, CASE WHEN placing_municipality IS NOT NULL THEN sign ELSE 0 END AS placed
      FROM ${rows} WHERE discharge_date IS NOT NULL AND municipality IS NOT NULL
      UNION ALL
      SELECT date_trunc('month', discharge_date)::date, 'hospital-unit', hospital_unit, coalesce(wait_sent, -1), -1, 0, sign,
        CASE WHEN placing_municipality IS NOT NULL THEN sign ELSE 0 END
      FROM ${rows} WHERE discharge_date IS NOT NULL AND hospital_unit IS NOT NULL) c
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0 OR sum(placed) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (month, group_kind, grp, wait_sent, wait_ready, flags)
    DO UPDATE SET episodes = r.episodes + EXCLUDED.episodes, placed = r.placed + EXCLUDED.placed;
  DELETE FROM report_months WHERE episodes = 0;
  INSERT INTO report_notification_months AS r (month, group_kind, grp, episodes, notifications, on_time)
    SELECT month, group_kind, grp, sum(n), sum(notifications), sum(on_time) FROM (
      SELECT date_trunc('month', admitted_date)::date AS month, 'municipality' AS group_kind, municipality AS grp, sign AS n,
        sign * notifications AS notifications, sign * notifications_on_time AS on_time
      FROM ${rows} WHERE admitted_date IS NOT NULL AND municipality IS NOT NULL
      UNION ALL
      SELECT date_trunc('month', admitted_date)::date, 'hospital-unit', hospital_unit, sign, sign * notifications, sign * notifications_on_time
      FROM ${rows} WHERE admitted_date IS NOT NULL AND hospital_unit IS NOT NULL) c
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(notifications) <> 0 OR sum(on_time) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (month, group_kind, grp)
    DO UPDATE SET episodes = r.episodes + EXCLUDED.episodes, notifications = r.notifications + EXCLUDED.notifications, on_time = r.on_time + EXCLUDED.on_time;
  DELETE FROM report_notification_months WHERE episodes = 0;`;

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
    version: '006-sender-systems',
    sql: `
      -- Every message is taken in from a sender system (docs/senders.md), and its message id is unique
      -- per sender system only: another system's id can neither squat nor reveal one. Messages stored
      -- before sender systems existed belong to the system '' (also the default of a row written
      -- without one, by tools and tests; ingress always names the system).
      ALTER TABLE messages ADD COLUMN sender_system text NOT NULL DEFAULT '';
      ALTER TABLE messages DROP CONSTRAINT messages_message_id_key;
      CREATE UNIQUE INDEX messages_sender_message ON messages (sender_system, message_id);
      CREATE INDEX messages_message_id ON messages (message_id);
      ALTER TABLE dead_letters ADD COLUMN sender_system text;
      -- Two systems may use one message id for ready notices; day 0 is per episode.
      ALTER TABLE day_zero DROP CONSTRAINT day_zero_message_id_key;
      ALTER TABLE day_zero ADD CONSTRAINT day_zero_episode_message UNIQUE (episode_id, message_id);
      -- The bodies of messages refused at ingress are kept for SVU_REFUSED_RETENTION; the sweeper
      -- clears older ones through this index.
      CREATE INDEX dead_letters_refused_bodies ON dead_letters (created_at)
        WHERE payload IS NOT NULL AND copy_id IS NULL;
    `,
  },
  {
    version: '007-console-sessions',
    sql: `
      -- Console sessions, shared by every console process, so that a sign-out, a user removed or
      -- changed in the users file, and an idle session end at once everywhere. The token carries the
      -- session id; the table keeps only its SHA-256.
      CREATE TABLE console_sessions (
        id_hash text PRIMARY KEY,
        username text NOT NULL,
        role text NOT NULL,
        -- SHA-256 of the user's entry (role and password hash) when the session began: a change ends it.
        user_fingerprint text NOT NULL,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      );
      CREATE INDEX console_sessions_user ON console_sessions (username) WHERE revoked_at IS NULL;
      CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

      -- Failed sign-ins per user name and per client address (keys are SHA-256 hashes, so no typed
      -- user name or address is kept), for back-off shared by every console process.
      CREATE TABLE console_login_failures (
        key_hash text PRIMARY KEY,
        failures integer NOT NULL,
        last_failure_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: '009-report-episodes',
    sql: `
      -- Placing municipality (it pays, agreements [001] and [003]), recorded by operators: the message schema has no field for it.
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
  {
    version: '010-recipient-health',
    sql: `
      -- Recipient health, shared by every egress process (docs/recovery.md): failing (since when, last
      -- error, when the next probe is due), paused by an operator, last success; and the backlog
      -- counted every sweep, so that metrics and the console read one row per recipient.
      CREATE TABLE recipient_health (
        recipient_hsa text PRIMARY KEY,
        failing boolean NOT NULL DEFAULT false,
        failing_since timestamptz,
        last_error text,
        last_failure_at timestamptz,
        last_success_at timestamptz,
        probe_at timestamptz,
        failed_probes integer NOT NULL DEFAULT 0,
        paused_at timestamptz,
        paused_by text,
        backlog integer NOT NULL DEFAULT 0,
        oldest_waiting_at timestamptz,
        counted_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- Egress processes say they are alive; a copy being sent names its process, so that the work of
      -- a process that died is taken over within seconds instead of when its lease runs out.
      CREATE TABLE egress_processes (
        id text PRIMARY KEY,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE copies ADD COLUMN lease_owner text, ADD COLUMN last_attempt_at timestamptz;
      -- A recipient's waiting copies: its probe, the heads of its episodes released when it recovers,
      -- its backlog count. Holds only copies on their way.
      CREATE INDEX copies_waiting_by_recipient ON copies (recipient_hsa, id) WHERE state IN ('routed', 'retrying', 'sending');
    `,
  },
  {
    version: '011-retention',
    sql: `
      -- Retention (docs/retention.md): what the pruning job cleared or removed, per kind and run.
      CREATE TABLE retention_runs (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('payloads', 'dead-letters', 'documents', 'audit')),
        count integer NOT NULL,
        cutoff timestamptz NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX retention_runs_at ON retention_runs (at DESC, id DESC);
      -- A message whose payloads were pruned keeps its row (ids, type, times, the municipality for the
      -- reports) with the original bytes emptied and the canonical form stripped of personal data.
      ALTER TABLE messages ADD COLUMN payload_pruned_at timestamptz;
      CREATE INDEX messages_unpruned ON messages (received_at, id) WHERE payload_pruned_at IS NULL;
      -- A document sent by hand keeps its row (who sent it, when: the reports need it), not the PDF.
      ALTER TABLE fallback_documents ALTER COLUMN pdf DROP NOT NULL;
      ALTER TABLE fallback_documents ADD COLUMN pdf_pruned_at timestamptz;
      CREATE INDEX fallback_documents_sent_unpruned ON fallback_documents (sent_at, id) WHERE status = 'sent' AND pdf IS NOT NULL;
      CREATE INDEX dead_letters_resolved ON dead_letters (resolved_at, id) WHERE resolved_at IS NOT NULL;
      CREATE INDEX audit_log_at ON audit_log (at, id);
      -- Audit entries still cannot be changed; they can be removed only by the retention job, which
      -- sets svu.retention in its own transaction (SET LOCAL), and only once older than its cutoff.
      CREATE OR REPLACE FUNCTION audit_log_unchangeable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND current_setting('svu.retention_audit_cutoff', true) IS NOT NULL
             AND current_setting('svu.retention_audit_cutoff', true) <> ''
             AND OLD.at < current_setting('svu.retention_audit_cutoff', true)::timestamptz THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'audit log entries cannot be changed or removed';
        END $$;
    `,
  },
  {
    version: '012-fallback-every-type',
    sql: `
      -- Every type except acknowledgements may need a fallback document (README, Deadlines): the watcher's
      -- question is answered from the open copies of those types only, in id order (admissions by
      -- notifyBy − margin, the others by a per-type time after acceptance, both decided in the query).
      DROP INDEX copies_fallback_due;
      CREATE INDEX copies_fallback_open ON copies (id)
        WHERE type <> 'acknowledgement' AND fallback_at IS NULL AND delivered_at IS NULL AND state NOT IN ('cancelled', 'delivered', 'acknowledged');

      -- A cancellation withdraws the documents of the cancelled message not yet sent (README, Deadlines).
      -- delivered_at: when the document reached the recipient (a fax when sent, a letter when sent
      -- plus the postal delay).
      ALTER TABLE fallback_documents DROP CONSTRAINT fallback_documents_status_check;
      ALTER TABLE fallback_documents
        ADD CONSTRAINT fallback_documents_status_check CHECK (status IN ('waiting', 'sent', 'withdrawn')),
        ADD COLUMN delivered_at timestamptz,
        ADD COLUMN withdrawn_at timestamptz,
        ADD COLUMN withdrawn_by text;
      UPDATE fallback_documents SET delivered_at = sent_at WHERE status = 'sent';
      CREATE INDEX fallback_documents_message ON fallback_documents (message_id, recipient_hsa);

      -- A cancellation whose message reached a unit by fax or letter goes to it the same way: one row
      -- per such unit, done once the cancellation's document is made.
      CREATE TABLE fallback_follow_ups (
        id bigserial PRIMARY KEY,
        cancellation_message_id text NOT NULL,
        recipient_hsa text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('letter', 'fax')),
        original_document_id bigint NOT NULL REFERENCES fallback_documents (id),
        created_at timestamptz NOT NULL,
        done_at timestamptz,
        UNIQUE (cancellation_message_id, recipient_hsa)
      );
      CREATE INDEX fallback_follow_ups_open ON fallback_follow_ups (id) WHERE done_at IS NULL;

      -- Which messages stand: a message named by an accepted cancellation no longer does.
      CREATE TABLE message_cancellations (
        sender_system text NOT NULL,
        message_id text NOT NULL,
        cancelled_by text NOT NULL,
        cancelled_at timestamptz NOT NULL,
        PRIMARY KEY (sender_system, message_id)
      );

      -- Episode facts from what stands (README, Deadlines), for follow-up reports: day 0 from the first ready
      -- notice not cancelled (earliest sending, then acceptance), its delivery (electronic or by hand),
      -- and the discharge from the first discharge message not cancelled. A letter still in the post
      -- (delivered_at after now) has informed nobody yet.
      CREATE VIEW episode_facts AS
      WITH first_ready AS (
        SELECT DISTINCT ON (episode_id) episode_id, message_id, day_zero, sent_at
        FROM day_zero WHERE cancelled_at IS NULL ORDER BY episode_id, sent_at, id),
      ready_delivery AS (
        SELECT r.episode_id, min(LEAST(c.delivered_at, c.manual_delivered_at)) AS delivered_at
        FROM first_ready r JOIN copies c ON c.message_id = r.message_id GROUP BY r.episode_id),
      first_discharge AS (
        SELECT DISTINCT ON (m.episode_id) m.episode_id, m.message_id, (m.canonical -> 'body' ->> 'dischargedAt')::timestamptz AS discharged_at
        FROM messages m
        WHERE m.type = 'discharged' AND NOT EXISTS (SELECT 1 FROM message_cancellations x WHERE x.message_id = m.message_id AND x.sender_system = m.sender_system)
        ORDER BY m.episode_id, m.id)
      SELECT e.episode_id,
             r.message_id AS day_zero_message_id, r.day_zero, r.sent_at AS ready_sent_at,
             d.delivered_at AS ready_delivered_at,
             (r.message_id IS NOT NULL AND (d.delivered_at IS NULL OR d.delivered_at > now())) AS ready_not_delivered,
             f.message_id AS discharge_message_id, f.discharged_at
      FROM (SELECT episode_id FROM first_ready UNION SELECT episode_id FROM first_discharge) AS e
        LEFT JOIN first_ready r ON r.episode_id = e.episode_id
        LEFT JOIN ready_delivery d ON d.episode_id = e.episode_id
        LEFT JOIN first_discharge f ON f.episode_id = e.episode_id;
    `,
  },
  {
    version: '018-report-summary-on-write',
    sql: `
      -- The payment-liability summary is kept up to date from the write path (docs/payment-liability.md):
      -- every write that can change an episode's facts adds the episode to report_pending in its own
      -- transaction (triggers below: one row per statement for inserts, one per relevant change for
      -- updates), and a background job computes those episodes again in small batches, one at a time
      -- under an advisory lock. A report reads the summary; it never catches up in bulk.
      CREATE TABLE report_pending (
        id bigserial PRIMARY KEY,
        episode_id text NOT NULL
      );
      CREATE INDEX report_pending_episode ON report_pending (episode_id);
      CREATE FUNCTION report_pending_statement() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO report_pending (episode_id) SELECT DISTINCT episode_id FROM changed WHERE episode_id IS NOT NULL;
          RETURN NULL;
        END $$;
      CREATE FUNCTION report_pending_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_TABLE_NAME = 'message_cancellations' THEN
            INSERT INTO report_pending (episode_id)
              SELECT m.episode_id FROM messages m WHERE m.sender_system = NEW.sender_system AND m.message_id = NEW.message_id;
          ELSIF TG_TABLE_NAME = 'fallback_documents' THEN
            INSERT INTO report_pending (episode_id) SELECT c.episode_id FROM copies c WHERE c.id = NEW.copy_id;
          ELSE
            INSERT INTO report_pending (episode_id) VALUES (NEW.episode_id);
          END IF;
          RETURN NULL;
        END $$;
      CREATE TRIGGER messages_report_pending AFTER INSERT ON messages
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_pending_statement();
      -- New copies change an admission's notification count.
      CREATE TRIGGER copies_report_pending_insert AFTER INSERT ON copies
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_pending_statement();
      -- A delivery (electronic or by hand), or a copy cancelled; not the many other state changes.
      CREATE TRIGGER copies_report_pending_update AFTER UPDATE ON copies FOR EACH ROW
        WHEN (OLD.delivered_at IS DISTINCT FROM NEW.delivered_at OR OLD.manual_delivered_at IS DISTINCT FROM NEW.manual_delivered_at
              OR (OLD.state <> NEW.state AND (OLD.state = 'cancelled' OR NEW.state = 'cancelled')))
        EXECUTE FUNCTION report_pending_row();
      CREATE TRIGGER day_zero_report_pending AFTER INSERT OR UPDATE ON day_zero FOR EACH ROW EXECUTE FUNCTION report_pending_row();
      CREATE TRIGGER episode_notes_report_pending AFTER INSERT OR UPDATE ON episode_notes FOR EACH ROW EXECUTE FUNCTION report_pending_row();
      CREATE TRIGGER message_cancellations_report_pending AFTER INSERT ON message_cancellations FOR EACH ROW EXECUTE FUNCTION report_pending_row();
      CREATE TRIGGER fallback_documents_report_pending AFTER INSERT OR UPDATE OF status, sent_via ON fallback_documents FOR EACH ROW
        EXECUTE FUNCTION report_pending_row();

      -- What the report requests would have refreshed at the next report (their marks), and every
      -- episode not yet in the summary, are computed by the background job after the upgrade.
      INSERT INTO report_pending (episode_id)
        SELECT DISTINCT m.episode_id FROM messages m, report_refresh r
        WHERE m.id > r.messages_id - 10000 OR NOT EXISTS (SELECT 1 FROM report_episodes e WHERE e.episode_id = m.episode_id)
        UNION SELECT c.episode_id FROM copy_events e JOIN copies c ON c.id = e.copy_id, report_refresh r WHERE e.id > r.copy_events_id - 10000
        UNION SELECT x.episode_id FROM episode_notes x, report_refresh r WHERE x.noted_at > r.notes_at - interval '5 minutes';
      DROP TABLE report_refresh;
    `,
  },
  {
    version: '019-dispatch-undo-and-due-notifications',
    sql: `
      -- When an operator marked a fallback document sent (its sent_at is the operator's word and may be
      -- earlier): the undo window (docs/console.md, Overview, counts and manual dispatch) counts from it.
      ALTER TABLE fallback_documents ADD COLUMN marked_at timestamptz;
      UPDATE fallback_documents SET marked_at = sent_at WHERE status = 'sent';

      -- The report's share of notifications within 24 hours counts only notifications that were due
      -- (delivered, or their deadline passed): a copy's deadline judged (deadline_checked_at) changes
      -- the episode's summary too.
      DROP TRIGGER copies_report_pending_update ON copies;
      CREATE TRIGGER copies_report_pending_update AFTER UPDATE ON copies FOR EACH ROW
        WHEN (OLD.delivered_at IS DISTINCT FROM NEW.delivered_at OR OLD.manual_delivered_at IS DISTINCT FROM NEW.manual_delivered_at
              OR OLD.deadline_checked_at IS DISTINCT FROM NEW.deadline_checked_at
              OR (OLD.state <> NEW.state AND (OLD.state = 'cancelled' OR NEW.state = 'cancelled')))
        EXECUTE FUNCTION report_pending_row();
      -- Episodes with a notification not on time are computed again under the new rule.
      INSERT INTO report_pending (episode_id) SELECT episode_id FROM report_episodes WHERE notifications > notifications_on_time;
    `,
  },
  {
    version: '020-console-find',
    sql: `
      -- Failed delivery attempts keep where they went and what came back (docs/console.md): the
      -- endpoint without credentials or query, the HTTP status, the first bytes of the answer.
      ALTER TABLE copies ADD COLUMN last_attempt jsonb;
      ALTER TABLE copy_events ADD COLUMN attempt jsonb;
      -- The console finds a patient's messages by identity number without an index of numbers in
      -- clear: a SHA-256 of the canonical patient.id (NULL once retention has stripped it).
      ALTER TABLE messages ADD COLUMN patient_id_hash bytea
        GENERATED ALWAYS AS (sha256(decode(replace(canonical -> 'patient' ->> 'id', '\\', '\\\\'), 'escape'))) STORED;
      CREATE INDEX messages_patient_id_hash ON messages (patient_id_hash) WHERE patient_id_hash IS NOT NULL;
      CREATE INDEX dead_letters_message_pk ON dead_letters (message_pk);
    `,
  },
  {
    version: '021-console-bulk-jobs-audit',
    sql: `
      -- A bulk job counts the dead letters it found already resolved; who cancelled it; its runner marks it
      -- finished when it stopped (a cancelled job's counts are final from then on).
      -- beat_at: the runner's last sign of life (a job whose runner's process stopped can then be cancelled for good).
      ALTER TABLE bulk_jobs ADD COLUMN skipped integer NOT NULL DEFAULT 0, ADD COLUMN cancelled_by text, ADD COLUMN beat_at timestamptz;
      -- The audit log's entries of a bulk job's dead letters name the job (detail.bulkJob): grouped under it.
      CREATE INDEX audit_log_bulk_job ON audit_log ((detail->>'bulkJob')) WHERE detail ? 'bulkJob';
      CREATE INDEX audit_log_target ON audit_log (target text_pattern_ops);
    `,
  },
  {
    version: '022-recipient-pause-reason',
    sql: `
      -- Why an operator paused a recipient, shown with it in the console and the API (docs/recovery.md).
      ALTER TABLE recipient_health ADD COLUMN paused_reason text;
    `,
  },
  {
    version: '023-report-months',
    sql: `
      -- Month aggregates of the payment-liability summary (docs/payment-liability.md, How it stays fast),
      -- kept by statement triggers on report_episodes in the transaction that writes its rows (the
      -- background job's batch, a report's catch-up): the old rows' contribution subtracted, the new
      -- rows' added. A report reads a few hundred rows per month whatever the number of episodes.
      -- wait_sent / wait_ready: -1 when there is no day 0 or no discharge (a key cannot be null).
      -- flags: bit 0 pre_admission, 1 pre_estimate, 2 pre_ready, 3 pre_sip, 4 outpatient_only, 5 region_caused
      -- (hospital-unit rows: 0, and wait_ready -1: those groups need only the waiting days from the send date).
      CREATE TABLE report_months (
        month date NOT NULL,
        group_kind text NOT NULL CHECK (group_kind IN ('municipality', 'hospital-unit')),
        grp text NOT NULL,
        wait_sent integer NOT NULL,
        wait_ready integer NOT NULL,
        flags smallint NOT NULL,
        episodes integer NOT NULL,
        placed integer NOT NULL,
        PRIMARY KEY (month, group_kind, grp, wait_sent, wait_ready, flags)
      );
      CREATE INDEX report_months_empty ON report_months (month) WHERE episodes = 0;
      CREATE TABLE report_notification_months (
        month date NOT NULL,
        group_kind text NOT NULL CHECK (group_kind IN ('municipality', 'hospital-unit')),
        grp text NOT NULL,
        episodes integer NOT NULL,
        notifications integer NOT NULL,
        on_time integer NOT NULL,
        PRIMARY KEY (month, group_kind, grp)
      );
      CREATE INDEX report_notification_months_empty ON report_notification_months (month) WHERE episodes = 0;
      CREATE FUNCTION report_months_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN ${reportMonthsApply('(SELECT *, 1 AS sign FROM new_rows) x')} RETURN NULL; END $$;
      CREATE FUNCTION report_months_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN ${reportMonthsApply('(SELECT *, 1 AS sign FROM new_rows UNION ALL SELECT *, -1 FROM old_rows) x')} RETURN NULL; END $$;
      CREATE FUNCTION report_months_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN ${reportMonthsApply('(SELECT *, -1 AS sign FROM old_rows) x')} RETURN NULL; END $$;
      CREATE TRIGGER report_episodes_months_insert AFTER INSERT ON report_episodes
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_months_insert();
      CREATE TRIGGER report_episodes_months_update AFTER UPDATE ON report_episodes
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_months_update();
      CREATE TRIGGER report_episodes_months_delete AFTER DELETE ON report_episodes
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_months_delete();
      -- The summary as it stands (the background job keeps what is pending).
      DO $$ BEGIN ${reportMonthsApply('(SELECT *, 1 AS sign FROM report_episodes) x')} END $$;
      -- The episode report of one municipality's month, a page at a time.
      CREATE INDEX report_episodes_municipality_discharge ON report_episodes (municipality, discharge_date, episode_id);
      CREATE INDEX report_episodes_municipality_admitted ON report_episodes (municipality, admitted_date, episode_id);
    `,
  },
  {
    version: '024-report-pending-in-statements',
    sql: `
      -- The busiest writes list their episodes for the summary in their own statements
      -- (store/report-pending.ts: messages stored, copies made, copies delivered), one set-based insert
      -- each, instead of these triggers: the statement triggers' transition tables copied every stored
      -- message and copy with its payload, and the row trigger ran a PL/pgSQL call and an insert per
      -- copy delivered (bench:load, docs/benchmarks.md). The rarer writes stay listed by triggers.
      DROP TRIGGER messages_report_pending ON messages;
      DROP TRIGGER copies_report_pending_insert ON copies;
      DROP FUNCTION report_pending_statement();
      DROP TRIGGER copies_report_pending_update ON copies;
      CREATE TRIGGER copies_report_pending_update AFTER UPDATE ON copies FOR EACH ROW
        WHEN (OLD.manual_delivered_at IS DISTINCT FROM NEW.manual_delivered_at
              OR OLD.deadline_checked_at IS DISTINCT FROM NEW.deadline_checked_at
              OR (OLD.state <> NEW.state AND (OLD.state = 'cancelled' OR NEW.state = 'cancelled')))
        EXECUTE FUNCTION report_pending_row();
    `,
  },
];
