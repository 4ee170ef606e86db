import { MetricsService } from '../common/metrics.service';
import * as dialects from '@svu/dialects';
import type { Broker } from '../broker/broker';
import { systemClock } from '../common/clock/clock';
import type { Database } from '../store/database';
import type { CopiesRepository } from '../store/copies.repository';
import type { AuditRepository } from '../store/audit.repository';
import type { DocumentsRepository } from '../store/documents.repository';
import type { MessagesRepository } from '../store/messages.repository';
import { IngressService } from './ingress.service';
import type { DeadLettersRepository } from '../store/dead-letters.repository';

describe('IngressService at start', () => {
  it('runs every reader once before the process reports ready, so the first requests do not compile the schema', () => {
    const read = jest.spyOn(dialects, 'readMessage');
    const service = new IngressService({} as Database, {} as Broker, systemClock, { ingressGroupWaitMs: 0, refusedBodyMax: 65_536 }, new MetricsService(), {} as CopiesRepository, {} as AuditRepository, {} as MessagesRepository, {} as DocumentsRepository, {} as DeadLettersRepository);
    service.onApplicationBootstrap();
    expect(read.mock.calls.map(([format]) => format).sort()).toEqual([...dialects.FORMATS].sort());
    read.mockRestore();
  });
});
