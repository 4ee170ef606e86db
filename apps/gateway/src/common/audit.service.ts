import { Injectable } from '@nestjs/common';
import type { Session } from './auth/session';
import { Database } from '../store/database';

export interface AuditEntry {
  readonly id: string;
  readonly at: Date;
  readonly username: string;
  readonly role: string;
  readonly action: string;
  readonly target: string | null;
  readonly detail: unknown;
}

/** The audit log: who did what, and who viewed which message's patient data. Entries cannot be changed. */
@Injectable()
export class AuditService {
  constructor(private readonly db: Database) {}

  async record(session: Pick<Session, 'username'> & { readonly role: string }, action: string, target: string | null, detail?: Record<string, unknown>): Promise<void> {
    await this.db.query('INSERT INTO audit_log (username, role, action, target, detail) VALUES ($1, $2, $3, $4, $5)', [
      session.username,
      session.role,
      action,
      target,
      detail === undefined ? null : JSON.stringify(detail),
    ]);
  }

  /** Newest first, keyset-paged by id. */
  async list(before: string | undefined, limit: number): Promise<AuditEntry[]> {
    return this.db.query<AuditEntry & Record<string, unknown>>(
      `SELECT id, at, username, role, action, target, detail FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
      [before ?? null, limit],
    );
  }
}
