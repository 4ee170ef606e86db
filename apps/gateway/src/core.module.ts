import { Module, type DynamicModule } from '@nestjs/common';
import { Broker } from './broker/broker';
import { CLOCK, SESSION_CLOCK, systemClock, WALL_CLOCK, type Clock } from './common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { DirectoryService } from './directory/directory.service';
import { Lifecycle } from './lifecycle';
import { AuditRepository } from './store/audit.repository';
import { CopiesRepository } from './store/copies.repository';
import { DeviationsRepository } from './store/deviations.repository';
import { Database } from './store/database';
import { DeadLettersRepository } from './store/dead-letters.repository';
import { DocumentsRepository } from './store/documents.repository';
import { MessagesRepository } from './store/messages.repository';
import { ProcessesRepository } from './store/processes.repository';
import { RecipientHealthRepository } from './store/recipient-health.repository';
import { ReportsRepository } from './store/reports.repository';
import { RetentionRepository } from './store/retention.repository';
import { SessionsRepository } from './store/sessions.repository';
import { StoreCountsRepository } from './store/store-counts.repository';

/** The store's repositories (store/*.repository.ts), which hold the statements of the services (docs/architecture.md, The store). */
const REPOSITORIES = [MessagesRepository, CopiesRepository, DeadLettersRepository, DocumentsRepository, DeviationsRepository, AuditRepository, ProcessesRepository, RecipientHealthRepository, ReportsRepository, RetentionRepository, SessionsRepository, StoreCountsRepository];

/**
 * What every process has once: its configuration and clocks, the store, the broker and the
 * directory. Global, so that each service module names only what it adds; Lifecycle brings them up
 * before any consumer starts.
 */
@Module({})
export class CoreModule {
  static forRoot(config: GatewayConfig, clock: Clock, sessionClock: Clock): DynamicModule {
    const shared = [{ provide: GATEWAY_CONFIG, useValue: config }, { provide: CLOCK, useValue: clock }, { provide: SESSION_CLOCK, useValue: sessionClock }, { provide: WALL_CLOCK, useValue: systemClock }, Database, ...REPOSITORIES, Broker, DirectoryService];
    return { module: CoreModule, global: true, providers: [...shared, Lifecycle], exports: [GATEWAY_CONFIG, CLOCK, SESSION_CLOCK, WALL_CLOCK, Database, ...REPOSITORIES, Broker, DirectoryService] };
  }
}
