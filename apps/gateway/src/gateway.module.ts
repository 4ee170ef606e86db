import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Broker } from './broker/broker';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { DirectoryService } from './directory/directory.service';
import { EgressService } from './egress/egress.service';
import { Transports } from './egress/transports';
import { RecipientHealthStore } from './egress/recipient-health.store';
import { HealthController } from './health/health.controller';
import { AmqpIngressController } from './ingress/amqp-ingress.controller';
import { IngressController } from './ingress/ingress.controller';
import { IngressService } from './ingress/ingress.service';
import { loggerParams } from './common/logging';
import { RouterService } from './router/router.service';
import { Database } from './store/database';
import { CopiesRepository } from './store/copies.repository';
import { PoisonController } from './sweeper/poison.controller';
import { RouterController } from './router/router.controller';
import { EgressController } from './egress/egress.controller';
import { SweeperService } from './sweeper/sweeper.service';
import { Lifecycle } from './lifecycle';
import { APP_GUARD } from '@nestjs/core';
import { AuthController } from './console/auth/auth.controller';
import { AuthGuard } from './common/auth/auth.guard';
import { LoginThrottle } from './console/auth/login-throttle.service';
import { SessionSecret, SessionStore } from './common/auth/session-store';
import { UsersService } from './common/auth/users.service';
import { AuditService } from './common/audit.service';
import { BulkService } from './console/bulk.service';
import { ConsoleController } from './console/console.controller';
import { DeadLettersService } from './console/dead-letters.service';
import { MetricsController } from './health/metrics.controller';
import { MetricsService, StoreGauges } from './common/metrics.service';
import { RetentionController } from './retention/retention.controller';
import { RetentionService } from './retention/retention.service';
import { OverviewService } from './console/overview.service';
import { ReportsController } from './reports/reports.controller';
import { ReportSummaryService } from './reports/report-summary.service';
import { RecipientsController } from './console/recipients.controller';
import { CLOCK, SESSION_CLOCK, systemClock, type Clock } from './common/clock/clock';
import { DeadlineService } from './deadlines/deadline.service';
import { DispatchService } from './deadlines/dispatch.service';
import { SendersService } from './senders/senders.service';

/** The gateway with the services that this process runs (SVU_SERVICES); all of them by default. */
@Module({})
export class GatewayModule {
  static forConfig(config: GatewayConfig, clock: Clock = systemClock, sessionClock: Clock = systemClock): DynamicModule {
    const has = (name: Parameters<GatewayConfig['services']['has']>[0]) => config.services.has(name);
    const providers: Provider[] = [
      { provide: GATEWAY_CONFIG, useValue: config },
      { provide: CLOCK, useValue: clock },
      { provide: SESSION_CLOCK, useValue: sessionClock },
      Database,
      CopiesRepository,
      Broker,
      DirectoryService,
      Lifecycle,
      DispatchService,
      MetricsService,
      SessionSecret,
      UsersService,
      SessionStore,
      AuditService,
      RecipientHealthStore,
      { provide: APP_GUARD, useClass: AuthGuard },
    ];
    // Controllers with @EventPattern handlers make this process consume their queues (BrokerTransport).
    const controllers: Type[] = [HealthController, MetricsController, PoisonController];
    if (has('ingress') || has('console')) providers.push(IngressService, SendersService);
    if (has('ingress')) controllers.push(IngressController, AmqpIngressController);
    if (has('console')) {
      providers.push(DeadLettersService, BulkService, OverviewService, LoginThrottle);
      controllers.push(AuthController, ConsoleController, ReportsController, RetentionController, RecipientsController);
    }
    if (has('router')) {
      providers.push(RouterService);
      controllers.push(RouterController);
    }
    if (has('egress')) {
      providers.push(EgressService, Transports);
      controllers.push(EgressController);
    }
    if (has('deadlines')) providers.push(DeadlineService, StoreGauges, RetentionService);
    if (has('router') || has('egress') || has('deadlines')) providers.push(SweeperService);
    if (has('console') || has('deadlines')) providers.push(ReportSummaryService);
    return { module: GatewayModule, imports: [LoggerModule.forRoot(loggerParams(config.logLevel, config.logFile))], providers, controllers };
  }
}
