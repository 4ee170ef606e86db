import { Injectable } from '@nestjs/common';
import type { Session } from './auth/session';
import { AuditRepository, type AuditEntry } from '../store/audit.repository';

export type { AuditEntry };

/** The audit log: who did what, and who viewed which message's patient data. Entries cannot be changed. */
@Injectable()
export class AuditService {
  constructor(private readonly log: AuditRepository) {}

  async record(session: Pick<Session, 'username'> & { readonly role: string }, action: string, target: string | null, detail?: Record<string, unknown>): Promise<void> {
    await this.log.insert({ username: session.username, role: session.role, action, target, ...(detail === undefined ? {} : { detail }) });
  }

  /** Newest first, keyset-paged by id. */
  list(before: string | undefined, limit: number): Promise<AuditEntry[]> {
    return this.log.list(before, limit);
  }
}
