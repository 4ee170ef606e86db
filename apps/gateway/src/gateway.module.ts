import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { systemClock, type Clock } from './common/clock/clock';
import { CommonModule } from './common/common.module';
import { loggerParams } from './common/logging';
import type { GatewayConfig, ServiceName } from './config/gateway-config';
import { ConsoleModule } from './console/console.module';
import { CoreModule } from './core.module';
import { DeadlinesModule } from './deadlines/deadlines.module';
import { EgressModule } from './egress/egress.module';
import { HealthModule } from './health/health.module';
import { IngressModule } from './ingress/ingress.module';
import { ReportsModule } from './reports/reports.module';
import { ReportSummaryModule } from './reports/report-summary.module';
import { RouterModule } from './router/router.module';
import { PoisonModule } from './sweeper/poison.module';
import { SweeperModule } from './sweeper/sweeper.module';

/** The modules each service in SVU_SERVICES brings into its process. */
export const SERVICE_MODULES: Readonly<Record<ServiceName, readonly Type[]>> = {
  ingress: [IngressModule],
  router: [RouterModule, SweeperModule],
  egress: [EgressModule, SweeperModule],
  deadlines: [DeadlinesModule, SweeperModule, ReportSummaryModule],
  console: [ConsoleModule, ReportsModule, ReportSummaryModule],
};

/** The modules every process runs, whatever its services. */
const EVERY_PROCESS: readonly Type[] = [CommonModule, HealthModule, PoisonModule];

/** The modules of a process that runs these services, each once. */
export function modulesFor(services: Iterable<ServiceName>): Type[] {
  const modules = new Set<Type>(EVERY_PROCESS);
  for (const service of services) for (const module of SERVICE_MODULES[service]) modules.add(module);
  return [...modules];
}

/** The gateway with the services that this process runs (SVU_SERVICES); all of them by default. */
@Module({})
export class GatewayModule {
  static forConfig(config: GatewayConfig, clock: Clock = systemClock, sessionClock: Clock = systemClock): DynamicModule {
    return {
      module: GatewayModule,
      imports: [CoreModule.forRoot(config, clock, sessionClock), LoggerModule.forRoot(loggerParams(config.logLevel, config.logFile)), ...modulesFor(config.services)],
    };
  }
}
