import { readFileSync } from 'node:fs';
import type { CanonicalMessage } from '@svu/canonical';
import { DEFAULT_RULE_SETS, episodeRow, monthlyReport, type EpisodeFacts, type EpisodeRow, type MonthlyReport, type RuleSet } from '@svu/reports';
import { swedishDate } from '@svu/swedish-time';

type Query = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

/** Which rule set applies to which municipality (SVU_REPORT_RULES); thresholds are configuration. */
export interface ReportRules {
  readonly default: string | null;
  readonly ruleSets: Readonly<Record<string, RuleSet>>;
  readonly municipalities: Readonly<Record<string, string>>;
}

/** Reads the rules file; absent file: the law's default for every municipality. */
export function loadReportRules(path: string): ReportRules {
  let json: Partial<ReportRules> = {};
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Partial<ReportRules>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path}: ${(error as Error).message}`);
  }
  const ruleSets: Record<string, RuleSet> = { ...DEFAULT_RULE_SETS, ...(json.ruleSets ?? {}) };
  const rules = { default: json.default === undefined ? 'law' : json.default, ruleSets, municipalities: json.municipalities ?? {} };
  for (const name of [rules.default, ...Object.values(rules.municipalities)]) {
    if (name !== null && ruleSets[name] === undefined) throw new Error(`${path}: no rule set named ${JSON.stringify(name)}`);
  }
  return rules;
}

function ruleFor(rules: ReportRules, municipality: string): { name: string; rules: RuleSet } | undefined {
  const name = rules.municipalities[municipality] ?? rules.default;
  return name === null ? undefined : { name, rules: rules.ruleSets[name]! };
}

const iso = (d: Date | null | undefined) => (d === null || d === undefined ? null : d.toISOString().slice(0, 19) + 'Z');

/** Every episode the store holds with its follow-up facts (one pass; a region's volume fits in memory). */
export async function loadEpisodeRows(query: Query): Promise<EpisodeRow[]> {
  const messages = await query<{ episode_id: string; type: string; sender_hsa: string; canonical: CanonicalMessage; notify_by: Date | null; message_id: string }>(
    'SELECT episode_id, type, sender_hsa, canonical, notify_by, message_id FROM messages ORDER BY id',
  );
  const copies = await query<{ episode_id: string; recipient_hsa: string; delivered_at: Date | null; manual_delivered_at: Date | null; state: string }>(
    "SELECT episode_id, recipient_hsa, delivered_at, manual_delivered_at, state FROM copies WHERE type = 'admission' AND state <> 'cancelled' ORDER BY id",
  );
  const ready = await query<{ episode_id: string; message_id: string; sent_at: Date; cancelled_at: Date | null }>('SELECT episode_id, message_id, sent_at, cancelled_at FROM day_zero ORDER BY id');
  const notes = await query<{ episode_id: string; region_caused: boolean }>('SELECT episode_id, region_caused FROM episode_notes');
  const facts = new Map<string, { municipality?: string; hospitalUnit?: string; admittedAt?: string; notifyBy?: string; dischargedAt?: string }>();
  for (const m of messages) {
    const f = facts.get(m.episode_id) ?? {};
    if (m.canonical.patient?.municipality !== undefined) f.municipality = m.canonical.patient.municipality;
    if (m.canonical.type === 'admission') {
      f.hospitalUnit = m.sender_hsa;
      f.admittedAt = m.canonical.body.admittedAt;
      const deadline = iso(m.notify_by);
      if (deadline !== null) f.notifyBy = deadline;
    }
    if (m.canonical.type === 'discharged') f.dischargedAt = m.canonical.body.dischargedAt;
    facts.set(m.episode_id, f);
  }
  const regionCaused = new Set(notes.filter((n) => n.region_caused).map((n) => n.episode_id));
  return [...facts.entries()].map(([episodeId, f]) => {
    const episode: EpisodeFacts = {
      episodeId,
      municipality: f.municipality,
      hospitalUnit: f.hospitalUnit,
      admittedAt: f.admittedAt,
      notifyBy: f.notifyBy,
      notifications: copies.filter((c) => c.episode_id === episodeId).map((c) => ({ recipientHsa: c.recipient_hsa, deliveredAt: iso(c.delivered_at), manualAt: iso(c.manual_delivered_at) })),
      readyNotices: ready.filter((r) => r.episode_id === episodeId).map((r) => ({ messageId: r.message_id, sentAt: iso(r.sent_at)!, cancelled: r.cancelled_at !== null })),
      dischargedAt: f.dischargedAt,
      regionCaused: regionCaused.has(episodeId),
    };
    return episodeRow(episode);
  });
}

/** Monthly reports for the month: each municipality and each hospital unit with data, or only the one asked for. */
export async function loadMonthlyReports(query: Query, rules: ReportRules, month: string, only?: { municipality?: string; unit?: string }): Promise<MonthlyReport[]> {
  const rows = await loadEpisodeRows(query);
  const touches = (r: EpisodeRow) => [r.dischargeDate, r.admittedAt === null ? null : swedishDate(r.admittedAt)].some((d) => d !== null && d.startsWith(month));
  const municipalities = only?.unit !== undefined ? [] : only?.municipality !== undefined ? [only.municipality] : [...new Set(rows.filter(touches).map((r) => r.municipality).filter((m): m is string => m !== null))].sort();
  const units = only?.municipality !== undefined ? [] : only?.unit !== undefined ? [only.unit] : [...new Set(rows.filter(touches).map((r) => r.hospitalUnit).filter((u): u is string => u !== null))].sort();
  const deviations = await query<{ kind: string; municipality: string | null; unit: string | null; n: string }>(
    `SELECT d.kind, m.canonical -> 'patient' ->> 'municipality' AS municipality,
            (SELECT a.sender_hsa FROM messages a WHERE a.episode_id = m.episode_id AND a.type = 'admission' ORDER BY a.id LIMIT 1) AS unit,
            count(*) AS n
     FROM deviations d
       -- Message ids are unique per sender system only: the deviation's own copy says which message
       -- it is about; without one, the first message with the id (docs/senders.md).
       CROSS JOIN LATERAL (
         SELECT m.* FROM messages m WHERE m.message_id = d.message_id
         ORDER BY (m.id = (SELECT c.message_pk FROM copies c WHERE c.id = d.copy_id)) DESC NULLS LAST, m.id LIMIT 1) m
     WHERE to_char(d.at AT TIME ZONE 'Europe/Stockholm', 'YYYY-MM') = $1
     GROUP BY 1, 2, 3`,
    [month],
  );
  const countsFor = (key: 'municipality' | 'unit', group: string) => {
    const counts: Record<string, number> = {};
    for (const d of deviations) if (d[key] === group) counts[d.kind] = (counts[d.kind] ?? 0) + Number(d.n);
    return counts;
  };
  return [
    ...municipalities.map((m) => monthlyReport(rows, 'municipality', m, month, ruleFor(rules, m), countsFor('municipality', m))),
    ...units.map((u) => monthlyReport(rows, 'hospital-unit', u, month, undefined, countsFor('unit', u))),
  ];
}

/** The last `count` months up to `month`, `YYYY-MM`, oldest first. */
export function monthsUpTo(month: string, count: number): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(y, m - 1 - (count - 1 - i), 1));
    return d.toISOString().slice(0, 7);
  });
}
