import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { StoreGauges } from '../common/metrics.service';
import { RetentionService } from '../retention/retention.service';
import { DeadlineService } from './deadline.service';

/** SVU_SERVICES=deadlines: the deadline watcher and fallback documents, retention, and the store's gauges. */
@Module({ imports: [CommonModule], providers: [DeadlineService, StoreGauges, RetentionService] })
export class DeadlinesModule {}
