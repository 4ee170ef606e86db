import { Injectable } from '@nestjs/common';
import type { Session } from './auth/session';
import { AuditRepository, type AuditEntry, type AuditFilter, type AuditPage } from '../store/audit.repository';

export type { AuditEntry, AuditFilter, AuditPage };

/** The audit log: who did what, and who viewed which message's patient data. Entries cannot be changed. */
@Injectable()
export class AuditService {
  constructor(private readonly log: AuditRepository) {}

  /**
   * Writes an entry. An actor acting for a bulk job (`bulkJob`) has the job named in the entry's
   * detail: the log shows those entries grouped under the job.
   */
  async record(session: Pick<Session, 'username'> & { readonly role: string; readonly bulkJob?: string }, action: string, target: string | null, detail?: Record<string, unknown>): Promise<void> {
    const withJob = session.bulkJob === undefined ? detail : { ...(detail ?? {}), bulkJob: session.bulkJob };
    await this.log.insert({ username: session.username, role: session.role, action, target, ...(withJob === undefined ? {} : { detail: withJob }) });
  }

  /** A page of the log, newest first, with the total the filter selects (see AuditRepository.page). */
  page(filter: AuditFilter, before: string | undefined, limit: number): Promise<AuditPage> {
    return this.log.page(filter, before, limit);
  }
}
