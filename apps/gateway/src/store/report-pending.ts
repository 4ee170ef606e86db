/**
 * The write path lists every episode whose payment-liability facts a write may change in
 * report_pending, in the writing statement's own transaction (docs/payment-liability.md, How it stays
 * fast). The busiest writes — messages stored with their copies, copies made for stored messages,
 * copies delivered — do it with this CTE in their own statement: one set-based insert of the
 * statement's episodes, each once. (Row triggers did it before, at a PL/pgSQL call and an insert per
 * copy delivered, and statement triggers whose transition tables copied every stored message and copy
 * with its payload; migration 024, docs/benchmarks.md has what they cost.)
 * The rarer writes (a copy delivered by hand, cancelled or judged late, day 0, notes, cancellations,
 * fallback documents sent) stay listed by triggers. A store test holds every statement that stores
 * messages, makes copies or sets delivered_at to this CTE.
 */
export function listEpisodesSql(name: string, source: string): string {
  return `${name} AS (INSERT INTO report_pending (episode_id) SELECT DISTINCT episode_id FROM ${source})`;
}
