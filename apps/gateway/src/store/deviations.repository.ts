import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from './database';
import type { DeviationKind } from './records';

/** What the console's list of deviations may be filtered by. */
export interface DeviationFilter {
  readonly kind?: string;
  readonly unitHsa?: string;
  /** From this instant on. */
  readonly from?: Date;
  /** Before this instant. */
  readonly to?: Date;
  readonly limit: number;
  /** How many to skip (paging). */
  readonly offset?: number;
}

/** One page of deviations with the total for the filter. */
export interface DeviationPage {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly items: DeviationRow[];
}

export interface DeviationRow {
  readonly id: string;
  readonly kind: DeviationKind;
  readonly messageId: string | null;
  readonly unitHsa: string | null;
  readonly at: Date;
  readonly detail: string | null;
}

/** Records a deviation in the transaction `tx`, at `fields.at` (the gateway's clock). */
export async function insertDeviation(
  tx: Queryable,
  kind: DeviationKind,
  fields: { messageId?: string | null; copyId?: number | string | null; unitHsa?: string | null; detail?: string | null; at: Date },
): Promise<void> {
  await tx.query('INSERT INTO deviations (kind, message_id, copy_id, unit_hsa, detail, at) VALUES ($1, $2, $3, $4, $5, $6)', [
    kind,
    fields.messageId ?? null,
    fields.copyId ?? null,
    fields.unitHsa ?? null,
    fields.detail ?? null,
    fields.at,
  ]);
}

/** Several deviations of one kind in one statement. */
export async function insertDeviations(
  tx: Queryable,
  kind: DeviationKind,
  rows: ReadonlyArray<{ messageId: string | null; copyId?: string | null; unitHsa?: string | null; detail: string | null; at: Date }>,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO deviations (kind, message_id, copy_id, unit_hsa, detail, at)
     SELECT $1, m, c, u, d, a FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS r(m, c, u, d, a)`,
    [kind, rows.map((r) => r.messageId), rows.map((r) => r.copyId ?? null), rows.map((r) => r.unitHsa ?? null), rows.map((r) => r.detail), rows.map((r) => r.at)],
  );
}

/** Deviations: late arrivals, missed deadlines, rejections, dead letters and refused cancellations or acknowledgements. */
@Injectable()
export class DeviationsRepository {
  constructor(private readonly db: Database) {}

  /** Newest first. */
  async list(filter: DeviationFilter): Promise<DeviationRow[]> {
    return (await this.page(filter)).items;
  }

  /** One page, newest first, with the total for the filter (all pages). */
  async page(filter: DeviationFilter): Promise<DeviationPage> {
    const params: unknown[] = [];
    const conditions: string[] = [];
    const where = (column: string, op: string, value: unknown) => {
      params.push(value);
      conditions.push(`${column} ${op} $${params.length}`);
    };
    if (filter.kind !== undefined) where('kind', '=', filter.kind);
    if (filter.unitHsa !== undefined) where('unit_hsa', '=', filter.unitHsa);
    if (filter.from !== undefined) where('at', '>=', filter.from);
    if (filter.to !== undefined) where('at', '<', filter.to);
    const clause = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const offset = filter.offset ?? 0;
    const [count, items] = await Promise.all([
      this.db.query<{ n: string }>(`SELECT count(*) AS n FROM deviations ${clause}`, [...params]),
      this.db.query<DeviationRow & Record<string, unknown>>(
        `SELECT id, kind, message_id AS "messageId", unit_hsa AS "unitHsa", at, detail FROM deviations
         ${clause} ORDER BY at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, filter.limit, offset],
      ),
    ]);
    return { total: Number(count[0]!.n), offset, limit: filter.limit, items };
  }
}
