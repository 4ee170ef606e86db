import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

/** Liveness, readiness and the Prometheus metrics: served by every process. */
@Module({ imports: [CommonModule], controllers: [HealthController, MetricsController] })
export class HealthModule {}
